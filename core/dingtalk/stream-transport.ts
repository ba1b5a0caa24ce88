import type { DWClientDownStream } from 'dingtalk-stream';
import type { Logger } from 'pino';
import type { ActionResult } from '../actions/action-registry.js';
import type { CardRenderer } from '../cards/card-renderer.js';
import { renderInteractive } from '../cards/render-interactive.js';
import type { Locale } from '../i18n/i18n.js';
import type { Conversation } from '../messages/inbound.js';
import type { Messenger } from '../messages/outbound.js';
import type { InboundSink, Transport, TransportState } from '../transport/transport.js';
import { backoffMs } from './backoff.js';
import { decodeCardCallback, decodeRobotMessage } from './decode.js';
import type { Inbox } from './inbox.js';
import { ConfigurableDWClient, GatewayError, type StreamClientOptions } from './stream-client.js';

export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';
export const TOPIC_CARD = '/v1.0/card/instances/callback';

export interface StreamTransportOptions extends Omit<StreamClientOptions, 'subscriptions'> {
  /** No frame for this long: probe with a WebSocket ping; twice as long: reconnect. */
  silenceMs?: number;
  /** Card callbacks must be answered within 2 s; handlers get this long before we answer empty. */
  cardResponseBudgetMs?: number;
  locale: Locale;
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
  private sink: InboundSink | undefined;
  private current: TransportState = { status: 'idle' };
  private attempt = 0;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  /** Number of successful connections (for status and tests). */
  connections = 0;
  lastError: string | undefined;

  constructor(
    private readonly options: StreamTransportOptions,
    private readonly inbox: Inbox,
    private readonly messenger: Messenger,
    private readonly renderer: CardRenderer,
    private readonly cardConversation: (cardId: string) => Promise<Conversation | undefined>,
    private readonly log: Logger,
  ) {}

  state(): TransportState {
    return { ...this.current, detail: this.current.status === 'connected' ? undefined : this.lastError };
  }

  async start(sink: InboundSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    const client = new ConfigurableDWClient({
      ...this.options,
      subscriptions: [
        { type: 'EVENT', topic: '*' },
        { type: 'CALLBACK', topic: TOPIC_ROBOT },
        { type: 'CALLBACK', topic: TOPIC_CARD },
      ],
    });
    client.registerCallbackListener(TOPIC_ROBOT, (m) => void this.onRobotMessage(m));
    client.registerCallbackListener(TOPIC_CARD, (m) => void this.onCardCallback(m));
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
    await this.replayUnfinished();
    this.connecting = this.connect();
    await this.connecting;
    const silence = this.options.silenceMs ?? 90_000;
    this.watchdog = setInterval(() => this.checkSilence(silence), Math.min(silence / 3, 10_000));
    this.watchdog.unref();
  }

  private async connect(): Promise<void> {
    const client = this.client!;
    this.current = { ...this.current, status: this.connections ? 'reconnecting' : 'connecting' };
    try {
      await client.getEndpoint();
      await client._connect();
    } catch (err) {
      this.lastError = describe(err);
      this.current = { ...this.current, status: 'reconnecting' };
      const wait = backoffMs(this.attempt++, 1_000, 60_000);
      this.log.warn(
        { attempt: this.attempt, retryInMs: wait, reason: this.lastError },
        'stream: connection failed; retrying',
      );
      this.scheduleReconnect(wait);
      return;
    }
    this.attempt = 0;
    this.connections++;
    this.lastError = undefined;
    this.current = { status: 'connected', lastFrameAt: Date.now() };
    this.log.info({ connections: this.connections }, 'stream: connected');
    const ws = client.ws!;
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
      this.connecting = this.connect();
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
    clearTimeout(this.reconnectTimer);
    clearInterval(this.watchdog);
    await this.connecting?.catch(() => undefined);
    this.client?.disconnect();
    this.current = { status: 'stopped', lastFrameAt: this.current.lastFrameAt };
  }

  // --- inbound

  private async onRobotMessage(frame: DWClientDownStream): Promise<void> {
    const client = this.client!;
    let data: Record<string, any>;
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
    if (data.errMsg)
      this.log.warn(
        { errMsg: data.errMsg },
        'DingTalk reports a message-channel problem (often the Stream/Webhook quota of the edition)',
      );
    const id = `msg:${data.msgId}`;
    let fresh: boolean;
    try {
      fresh = await this.inbox.accept(id, 'robot', data);
    } catch (err) {
      // Not stored: no ACK, so DingTalk may push it again.
      this.log.error({ err, msgId: data.msgId }, 'stream: could not record the message; not acknowledged');
      return;
    }
    client.socketCallBackResponse(frame.headers.messageId, null);
    if (!fresh) {
      this.log.debug({ msgId: data.msgId }, 'stream: duplicate message ignored');
      return;
    }
    await this.handleRobot(id, data);
  }

  /** Hands an accepted message or event to the bot, then marks it handled (kept for replay until then). */
  private async handleInbound(id: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
      await this.inbox.done(id);
    } catch (err) {
      this.log.error({ err, id }, 'stream: handling an inbound message or event failed');
    }
  }

  private handleRobot(id: string, data: Record<string, any>): Promise<void> {
    return this.handleInbound(id, () => this.sink!.message(decodeRobotMessage(data, 'stream')));
  }

  private handleEvent(id: string, event: Parameters<InboundSink['event']>[0]): Promise<void> {
    return this.handleInbound(id, () => this.sink!.event(event));
  }

  private async onEvent(frame: DWClientDownStream): Promise<'SUCCESS' | 'LATER'> {
    const h = frame.headers;
    const id = `evt:${h.eventId ?? h.messageId}`;
    let data: Record<string, unknown> = {};
    try {
      data = JSON.parse(frame.data);
    } catch {
      this.log.warn({ eventType: h.eventType }, 'stream: event with invalid JSON data');
    }
    const event = {
      type: String(h.eventType ?? ''),
      id: String(h.eventId ?? h.messageId),
      corpId: h.eventCorpId,
      bornAt: Number(h.eventBornTime) || undefined,
      data,
      via: 'stream',
    };
    let fresh: boolean;
    try {
      fresh = await this.inbox.accept(id, 'event', event);
    } catch (err) {
      this.log.error({ err, id }, 'stream: could not record the event; asking DingTalk to push it again');
      return 'LATER';
    }
    if (fresh) void this.handleEvent(id, event);
    return 'SUCCESS';
  }

  /**
   * A card button click. The answer (the card's new data) must reach DingTalk within 2 s;
   * a handler that takes longer gets an empty answer and its card is updated through the
   * card API when it finishes.
   */
  private async onCardCallback(frame: DWClientDownStream): Promise<void> {
    const client = this.client!;
    let data: Record<string, any>;
    try {
      data = JSON.parse(frame.data);
    } catch {
      client.socketCallBackResponse(frame.headers.messageId, {});
      return;
    }
    const action = decodeCardCallback(data, frame.headers.messageId, 'stream');
    action.conversation = await this.cardConversation(action.cardId).catch(() => undefined);
    const fresh = await this.inbox.accept(`card:${frame.headers.messageId}`, 'card', data).catch(() => true);
    if (!fresh) {
      client.socketCallBackResponse(frame.headers.messageId, {});
      return;
    }
    const work = this.sink!.action(action).catch((err): ActionResult => {
      this.log.error({ err, action: action.action }, 'stream: card action failed');
      return {};
    });
    const budget = this.options.cardResponseBudgetMs ?? 1_500;
    const timedOut = Symbol('timeout');
    const result = await Promise.race([
      work,
      new Promise<typeof timedOut>((r) => setTimeout(() => r(timedOut), budget).unref()),
    ]);
    if (result === timedOut) {
      client.socketCallBackResponse(frame.headers.messageId, {});
      void work.then((r) => this.afterAction(action, r, true));
      return;
    }
    client.socketCallBackResponse(frame.headers.messageId, this.callbackResponse(result));
    await this.afterAction(action, result, false);
    await this.inbox.done(`card:${frame.headers.messageId}`).catch(() => undefined);
  }

  private callbackResponse(result: ActionResult): Record<string, unknown> {
    if (!result.card) return {};
    const params = renderInteractive(result.card, this.renderer.context(this.options.locale));
    return {
      cardData: { cardParamMap: params },
      cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
    };
  }

  private async afterAction(
    action: { cardId: string; user: { userId: string }; conversation?: Conversation },
    result: ActionResult,
    late: boolean,
  ): Promise<void> {
    try {
      if (late && result.card) await this.messenger.updateCard(action.cardId, result.card);
      if (result.message) {
        const to =
          action.conversation?.type === 'group'
            ? { kind: 'group' as const, openConversationId: action.conversation.id }
            : { kind: 'user' as const, userId: action.user.userId };
        await this.messenger.send(to, result.message, { atUserIds: [action.user.userId] });
      }
    } catch (err) {
      this.log.error({ err, cardId: action.cardId }, 'stream: answering a card action failed');
    }
  }

  /** Messages and events accepted before a crash but not handled: handle them now. */
  private async replayUnfinished(): Promise<void> {
    const entries = await this.inbox.unfinished();
    if (!entries.length) return;
    this.log.warn({ count: entries.length }, 'stream: handling messages accepted before the last stop');
    for (const e of entries) {
      if (e.kind === 'robot') void this.handleRobot(e.id, e.payload as Record<string, any>);
      else if (e.kind === 'event')
        void this.handleEvent(e.id, e.payload as Parameters<InboundSink['event']>[0]);
      else await this.inbox.done(e.id);
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof GatewayError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
