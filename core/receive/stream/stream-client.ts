import { DWClient, type DWClientDownStream } from 'dingtalk-stream';
import { httpJson } from '../../util/http-json.js';
import { asSdk } from './sdk-console.js';

export interface StreamClientOptions {
  clientId: string;
  clientSecret: string;
  /** e.g. https://api.dingtalk.com, or the simulator. */
  apiBase: string;
  oapiBase: string;
  subscriptions: Array<{ type: string; topic: string }>;
  ua?: string;
}

/**
 * The official `dingtalk-stream` client, unmodified except for where it connects: the SDK
 * hard-codes api.dingtalk.com (docs/dingtalk-protocol.md §1.10), so `getEndpoint`/`getAccessToken` are
 * overridden to use the configured bases. Reconnection is driven by StreamTransport
 * (`autoReconnect: false`): the SDK's own retries run every second without backoff.
 * `onEvent` and `onSystem` are wrapped so events are acknowledged only once stored, and
 * `disconnect` is noticed at once.
 */
export class ConfigurableDWClient extends DWClient {
  /** Async event handler; its result is the ACK status. */
  eventHandler: (message: DWClientDownStream) => Promise<'SUCCESS' | 'LATER'> = async () => 'SUCCESS';
  onDisconnectFrame: () => void = () => undefined;
  onAnyFrame: () => void = () => undefined;

  constructor(private readonly streamOptions: StreamClientOptions) {
    // Own subscriptions array per client: the SDK's default is a shared module-level array.
    super({
      clientId: streamOptions.clientId,
      clientSecret: streamOptions.clientSecret,
      ua: streamOptions.ua ?? 'dingops',
      keepAlive: false,
      autoReconnect: false,
      subscriptions: streamOptions.subscriptions.map((s) => ({ ...s })),
    } as ConstructorParameters<typeof DWClient>[0]);
  }

  // What the SDK prints while connecting, connected (socket callbacks) and disconnecting is
  // its own: routed to the bot's log (sdk-console.ts), in the built bot too.
  override connect(): Promise<void> {
    return asSdk(() => super.connect());
  }

  override _connect(): Promise<void> {
    return asSdk(() => super._connect());
  }

  override disconnect(): void {
    asSdk(() => super.disconnect());
  }

  // node:http, not fetch: fetch loads undici on first use (~65 ms of the start-up and a few
  // MB that an idle bot would keep); every other DingTalk call goes through httpJson already.
  override async getEndpoint(): Promise<this> {
    const res = await httpJson(`${this.streamOptions.apiBase}/v1.0/gateway/connections/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        ua: this.config.ua,
        subscriptions: this.config.subscriptions,
      }),
      timeoutMs: 10_000,
    });
    const data = res.json;
    const text = (key: string) => (typeof data?.[key] === 'string' ? (data[key] as string) : undefined);
    if (!res.ok)
      throw new GatewayError(res.status, text('code') ?? '', text('message') ?? `HTTP ${res.status}`);
    const endpoint = text('endpoint');
    const ticket = text('ticket');
    if (!endpoint || !ticket) throw new GatewayError(res.status, '', 'endpoint or ticket is null');
    (this.config as { endpoint?: unknown }).endpoint = data;
    (this as unknown as { dw_url: string }).dw_url = `${endpoint}?ticket=${ticket}`;
    return this;
  }

  override async getAccessToken(): Promise<string> {
    const url = `${this.streamOptions.oapiBase}/gettoken?appkey=${encodeURIComponent(this.config.clientId)}&appsecret=${encodeURIComponent(this.config.clientSecret)}`;
    const res = await httpJson(url, { method: 'GET', headers: {}, timeoutMs: 10_000 });
    const token = res.json?.access_token;
    if (typeof token !== 'string' || !token) throw new Error('getAccessToken: get access_token failed');
    (this.config as { access_token?: string }).access_token = token;
    return token;
  }

  override onDownStream(data: string): void {
    this.onAnyFrame();
    super.onDownStream(data);
  }

  override onSystem(downstream: DWClientDownStream): void {
    super.onSystem(downstream);
    if (downstream.headers.topic === 'disconnect') this.onDisconnectFrame();
  }

  /** ACK only after the handler stored the event: SUCCESS, or LATER so DingTalk pushes again. */
  override onEvent(message: DWClientDownStream): void {
    void this.eventHandler(message)
      .catch(() => 'LATER' as const)
      .then((status) =>
        this.send(message.headers.messageId, {
          status,
          message: status === 'SUCCESS' ? 'ok' : 'retry later',
        }),
      );
  }

  /** The open socket, if any (the SDK keeps it in a public field). */
  get ws(): import('ws').WebSocket | undefined {
    return (this as unknown as { socket?: import('ws').WebSocket }).socket;
  }
}

/** The gateway refused the connection (wrong credentials, unpublished app, no Stream mode). */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`gateway ${status}${code ? ` ${code}` : ''}: ${message}`);
  }
}
