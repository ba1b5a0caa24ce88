import type { DWClientDownStream } from 'dingtalk-stream';
import type { Logger } from 'pino';
import type { DingTalkEvent } from '../../messages/inbound.js';
import { backoffMs } from '../../util/backoff.js';
import type { CardCallbacks } from '../card-callbacks.js';
import type { JsonObject } from '../decode.js';
import type { InboundIntake } from '../inbound-intake.js';
import type { Transport, TransportState } from '../transport.js';
import { routeSdkConsole } from './sdk-console.js';
import { ConfigurableDWClient, GatewayError, type StreamClientOptions } from './stream-client.js';

export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';
export const TOPIC_CARD = '/v1.0/card/instances/callback';

export interface StreamTransportOptions extends Omit<StreamClientOptions, 'subscriptions'> {
  /** No frame for this long: probe with a WebSocket ping; twice as long: reconnect. */
  silenceMs?: number;
}

/**
 * DingTalk Stream mode through the official SDK. Acknowledges at once (after recording the
 * message durably), then processes, so a slow handler never delays the ACK or other
 * messages. Reconnects with exponential backoff and jitter, reconnects right away on
 * `disconnect`, and treats a connection silent for too long as dead.
 */
export class StreamTransport implements Transport {
  readonly name = 'stream';
  private client: ConfigurableDWClient | undefined;
  private current: TransportState = { status: 'idle' };
  private attempt = 0;
  private stopped = false;
  private unrouteConsole: (() => void) | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  /** Number of successful connections (for status and tests). */
  connections = 0;
  lastError: string | undefined;

  constructor(
    private readonly options: StreamTransportOptions,
    private readonly intake: InboundIntake,
    private readonly cards: CardCallbacks,
    private readonly log: Logger,
  ) {}

  state(): TransportState {
    return { ...this.current, detail: this.current.status === 'connected' ? undefined : this.lastError };
  }

  async start(): Promise<void> {
    this.stopped = false;
    // The SDK prints to the console: its lines go to our log while it runs.
    // `sdk`, not a second `component`: pino writes a repeated binding twice in one line.
    this.unrouteConsole ??= routeSdkConsole(this.log.child({ sdk: 'dingtalk-stream' }));
    const client = new ConfigurableDWClient({
      ...this.options,
      subscriptions: [
        { type: 'EVENT', topic: '*' },
        { type: 'CALLBACK', topic: TOPIC_ROBOT },
        { type: 'CALLBACK', topic: TOPIC_CARD },
      ],
    });
    client.registerCallbackListener(TOPIC_ROBOT, (m) => void this.onRobotMessage(client, m));
    client.registerCallbackListener(TOPIC_CARD, (m) => void this.onCardCallback(client, m));
    client.eventHandler = (m) => this.onEvent(m);
    client.onAnyFrame = () => {
      this.current.lastFrameAt = Date.now();
    };
    client.onDisconnectFrame = () => {
      // DingTalk asks us to move: reconnect now instead of waiting for it to close the socket.
      this.log.info('stream: server sent disconnect; reconnecting');
      client.ws?.close();
    };
    this.client = client;
    await this.intake.replayUnfinished();
    this.connecting = this.connect(client);
    await this.connecting;
    const silence = this.options.silenceMs ?? 90_000;
    this.watchdog = setInterval(() => this.checkSilence(silence), Math.min(silence / 3, 10_000));
    this.watchdog.unref();
  }

  private async connect(client: ConfigurableDWClient): Promise<void> {
    this.current = { ...this.current, status: this.connections ? 'reconnecting' : 'connecting' };
    try {
      await client.getEndpoint();
      await client._connect();
    } catch (err) {
      const reason = describe(err);
      const refused = err instanceof GatewayError && err.status >= 400 && err.status < 500;
      const repeated = reason === this.lastError;
      this.lastError = reason;
      this.current = { ...this.current, status: 'reconnecting' };
      const wait = backoffMs(this.attempt++, 1_000, 60_000);
      // DingTalk refusing the app (wrong secret, unpublished app) is not a passing network
      // fault: said once at error level (/readyz and doctor name it meanwhile), not every retry.
      if (refused && !repeated)
        this.log.error(
          { reason, retryInMs: wait },
          'stream: DingTalk refuses the app (check dingtalk.clientId and dingtalk.clientSecret, and that the app is published); nothing arrives until this is fixed; retrying',
        );
      else if (!refused)
        this.log.warn(
          { attempt: this.attempt, retryInMs: wait, reason },
          'stream: connection failed; retrying',
        );
      else this.log.debug({ attempt: this.attempt, retryInMs: wait }, 'stream: still refused; retrying');
      this.scheduleReconnect(wait);
      return;
    }
    // The SDK has its socket once _connect resolved.
    const ws = client.ws;
    if (!ws) {
      this.scheduleReconnect(backoffMs(this.attempt++, 1_000, 60_000));
      return;
    }
    this.attempt = 0;
    this.connections++;
    this.lastError = undefined;
    this.current = { status: 'connected', lastFrameAt: Date.now() };
    this.log.info({ connections: this.connections }, 'stream: connected');
    ws.on('pong', () => {
      this.current.lastFrameAt = Date.now();
    });
    ws.once('close', (code: number) => {
      if (this.stopped) return;
      this.current = { ...this.current, status: 'reconnecting' };
      const wait = backoffMs(this.attempt++, 200, 60_000);
      this.log.warn({ code, retryInMs: wait }, 'stream: connection closed; reconnecting');
      this.scheduleReconnect(wait);
    });
  }

  private scheduleReconnect(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.client) this.connecting = this.connect(this.client);
    }, ms);
    this.reconnectTimer.unref();
  }

  /** A connection open but silent is probed with a ping, then dropped (zombie connections). */
  private checkSilence(silenceMs: number): void {
    if (this.current.status !== 'connected') return;
    const quiet = Date.now() - (this.current.lastFrameAt ?? 0);
    const ws = this.client?.ws;
    if (!ws) return;
    if (quiet > 2 * silenceMs) {
      this.log.warn({ quietMs: quiet }, 'stream: connection silent; dropping it');
      ws.terminate();
    } else if (quiet > silenceMs) ws.ping();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.intake.stopSweeping();
    clearTimeout(this.reconnectTimer);
    clearInterval(this.watchdog);
    await this.connecting?.catch(() => undefined);
    this.client?.disconnect();
    this.current = { status: 'stopped', lastFrameAt: this.current.lastFrameAt };
    this.unrouteConsole?.();
    this.unrouteConsole = undefined;
  }

  // --- inbound

  private async onRobotMessage(client: ConfigurableDWClient, frame: DWClientDownStream): Promise<void> {
    let data: JsonObject;
    try {
      data = JSON.parse(frame.data);
    } catch {
      this.log.warn(
        { messageId: frame.headers.messageId },
        'stream: robot message with invalid JSON; acknowledged and dropped',
      );
      client.socketCallBackResponse(frame.headers.messageId, null);
      return;
    }
    let id: string | undefined;
    try {
      id = await this.intake.acceptRobot(data);
    } catch (err) {
      // Not stored: no ACK, so DingTalk may push it again.
      this.log.error({ err, msgId: data.msgId }, 'stream: could not record the message; not acknowledged');
      return;
    }
    client.socketCallBackResponse(frame.headers.messageId, null);
    if (!id) {
      this.log.debug({ msgId: data.msgId }, 'stream: duplicate message ignored');
      return;
    }
    await this.intake.handleRobot(id, data);
  }

  private async onEvent(frame: DWClientDownStream): Promise<'SUCCESS' | 'LATER'> {
    const h = frame.headers;
    let data: Record<string, unknown> = {};
    try {
      data = JSON.parse(frame.data);
    } catch {
      this.log.warn({ eventType: h.eventType }, 'stream: event with invalid JSON data');
    }
    const event: DingTalkEvent = {
      type: String(h.eventType ?? ''),
      id: String(h.eventId ?? h.messageId),
      corpId: h.eventCorpId,
      bornAt: Number(h.eventBornTime) || undefined,
      data,
      via: 'stream',
    };
    let id: string | undefined;
    try {
      id = await this.intake.acceptEvent(event);
    } catch (err) {
      this.log.error(
        { err, eventId: event.id },
        'stream: could not record the event; asking DingTalk to push it again',
      );
      return 'LATER';
    }
    if (id) void this.intake.handleEvent(id, event);
    return 'SUCCESS';
  }

  /** A card button click: answered on the socket with the card's new data. */
  private async onCardCallback(client: ConfigurableDWClient, frame: DWClientDownStream): Promise<void> {
    let data: JsonObject;
    try {
      data = JSON.parse(frame.data);
    } catch {
      this.log.warn({ messageId: frame.headers.messageId }, 'stream: card callback with invalid JSON');
      client.socketCallBackResponse(frame.headers.messageId, {});
      return;
    }
    client.socketCallBackResponse(
      frame.headers.messageId,
      await this.cards.handle(data, frame.headers.messageId, 'stream'),
    );
  }
}

function describe(err: unknown): string {
  if (err instanceof GatewayError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
