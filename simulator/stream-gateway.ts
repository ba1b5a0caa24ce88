import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { randomText } from './random-text.js';
import type { SimState } from './state.js';

/** A frame pushed to a client (docs/dingtalk-protocol.md §1.4): string header values, `data` a JSON string. */
export interface DownFrame {
  specVersion: '1.0';
  type: 'SYSTEM' | 'EVENT' | 'CALLBACK';
  headers: Record<string, string>;
  data: string;
}

interface Connection {
  id: string;
  app: string;
  socket: WebSocket;
  subscriptions: Array<{ type: string; topic: string }>;
  openedAt: number;
}

interface PendingAck {
  frame: DownFrame;
  app: string;
  resolve: (ack: { code: number; data: string } | undefined) => void;
  timer?: NodeJS.Timeout;
  repushes: number;
}

const TICKET_TTL_MS = 90_000;

/**
 * The Stream mode gateway: `POST /v1.0/gateway/connections/open` issues single-use tickets
 * (90 s); `GET /connect?ticket=` upgrades to the WebSocket. Pushes go to one connection of
 * the app chosen at random; ACKs are tracked by messageId; unacknowledged or `LATER` EVENTs
 * are pushed again.
 */
export class StreamGateway {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Map<
    string,
    { app: string; subscriptions: Connection['subscriptions']; expiresAt: number }
  >();
  readonly connections = new Set<Connection>();
  private readonly pending = new Map<string, PendingAck>();
  private pingTimer: NodeJS.Timeout | undefined;
  /** How long an EVENT may stay unacknowledged before it is pushed again. */
  eventAckTimeoutMs = 5_000;
  maxRepushes = 5;
  /** Frames received from clients (ACKs), for tests. */
  readonly acks: Array<{ messageId: string; code: number; data: string }> = [];

  /**
   * `all`: an app may hold several connections, each push goes to one at random (DingTalk's
   * protocol page). `newest`: a new connection replaces the app's older ones, as one public
   * report says DingTalk does (docs/dingtalk-protocol.md §1.8): the bot must work either way.
   */
  connectionPolicy: 'all' | 'newest';

  constructor(
    private readonly state: SimState,
    private readonly wsBase: () => string,
    options: { pingIntervalMs?: number; streamConnections?: 'all' | 'newest' } = {},
  ) {
    this.connectionPolicy = options.streamConnections ?? 'all';
    if (options.pingIntervalMs) {
      this.pingTimer = setInterval(() => this.pingAll(), options.pingIntervalMs);
      this.pingTimer.unref();
    }
  }

  /** Handles the open-connection request body; returns [status, body]. */
  open(body: unknown): [number, unknown] {
    if (this.state.faults.refuseGateway)
      return [
        503,
        { code: 'ServiceUnavailable', message: 'gateway unavailable', requestid: this.state.requestId() },
      ];
    const b = (body ?? {}) as {
      clientId?: string;
      clientSecret?: string;
      subscriptions?: Connection['subscriptions'];
    };
    if (!b.clientId || !b.clientSecret)
      return [
        400,
        {
          code: 'MissingParameter',
          message: 'clientId and clientSecret are required',
          requestid: this.state.requestId(),
        },
      ];
    const app = this.state.org.apps.find((a) => a.clientId === b.clientId);
    if (!app || app.clientSecret !== b.clientSecret)
      return [
        401,
        {
          code: 'invalidClientIdOrSecret',
          message: '无效的clientId或者clientSecret',
          requestid: this.state.requestId(),
        },
      ];
    if (app.published === false)
      return [
        403,
        {
          code: 'Forbidden.AppNotPublished',
          message: '应用未发布，请先发布应用版本',
          requestid: this.state.requestId(),
        },
      ];
    if (app.mode !== 'stream')
      return [
        403,
        {
          code: 'Forbidden.StreamModeNotEnabled',
          message: '应用未开启Stream模式，请在开发者后台选择Stream模式',
          requestid: this.state.requestId(),
        },
      ];
    if (!Array.isArray(b.subscriptions) || !b.subscriptions.length)
      return [
        400,
        { code: 'MissingParameter', message: 'subscriptions is required', requestid: this.state.requestId() },
      ];
    const ticket = randomUUID();
    this.tickets.set(ticket, {
      app: app.clientId,
      subscriptions: b.subscriptions,
      expiresAt: Date.now() + TICKET_TTL_MS,
    });
    return [200, { endpoint: `${this.wsBase()}/connect`, ticket }];
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const ticket = url.searchParams.get('ticket') ?? '';
    const t = this.tickets.get(ticket);
    this.tickets.delete(ticket); // single use
    if (url.pathname !== '/connect' || !t || t.expiresAt < Date.now()) {
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"code":"InvalidTicket","message":"ticket is invalid or expired"}',
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Connection = {
        id: randomText(8, 'hex'),
        app: t.app,
        socket: ws,
        subscriptions: t.subscriptions,
        openedAt: Date.now(),
      };
      if (this.connectionPolicy === 'newest')
        for (const older of this.connections)
          if (older.app === conn.app) {
            this.disconnectOne(older, 'connection replaced by a newer one', 100);
            // No push goes to a connection on its way out.
            this.connections.delete(older);
          }
      this.connections.add(conn);
      this.state.changed('connections');
      ws.on('message', (raw) => this.onUpstream(raw.toString()));
      const gone = () => {
        if (this.connections.delete(conn)) this.state.changed('connections');
      };
      ws.on('close', gone);
      ws.on('error', gone);
    });
  }

  private onUpstream(text: string): void {
    let frame: { code?: number; headers?: Record<string, string>; data?: string };
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    const messageId = frame.headers?.messageId;
    if (!messageId) return;
    this.acks.push({ messageId, code: frame.code ?? 0, data: frame.data ?? '' });
    if (this.acks.length > 10_000) this.acks.splice(0, 5_000);
    const p = this.pending.get(messageId);
    if (!p) return;
    let status: string | undefined;
    try {
      status = (JSON.parse(frame.data ?? '{}') as { status?: string }).status;
    } catch {
      // CALLBACK acks carry {response}; no status.
    }
    if (p.frame.type === 'EVENT' && (frame.code !== 200 || status === 'LATER')) return; // re-pushed on timeout
    clearTimeout(p.timer);
    this.pending.delete(messageId);
    p.resolve({ code: frame.code ?? 0, data: frame.data ?? '' });
  }

  connectionsOf(app: string, type: string, topic: string): Connection[] {
    return [...this.connections].filter(
      (c) =>
        c.app === app &&
        c.socket.readyState === WebSocket.OPEN &&
        c.subscriptions.some(
          (s) => s.type === type && (s.topic === topic || (type === 'EVENT' && s.topic === '*')),
        ),
    );
  }

  /**
   * Pushes a CALLBACK (robot message, card callback) to one subscribed connection of the
   * app. Resolves with the ACK, or undefined when nobody acknowledged within `timeoutMs`.
   * Returns false at once when no connection subscribes to the topic.
   */
  pushCallback(
    app: string,
    topic: string,
    data: unknown,
    timeoutMs = 5_000,
  ): Promise<{ code: number; data: string } | undefined> | false {
    const conns = this.connectionsOf(app, 'CALLBACK', topic);
    if (!conns.length) return false;
    const messageId = this.messageId();
    const appId = this.state.app(app)?.clientId ?? app;
    const frame: DownFrame = {
      specVersion: '1.0',
      type: 'CALLBACK',
      headers: {
        appId,
        connectionId: '',
        contentType: 'application/json',
        messageId,
        time: String(Date.now()),
        topic,
      },
      data: JSON.stringify(data),
    };
    return this.sendTracked(app, frame, conns, timeoutMs, false);
  }

  /** Pushes an EVENT; it is pushed again until acknowledged with SUCCESS (up to `maxRepushes`). */
  pushEvent(
    app: string,
    eventType: string,
    data: unknown,
  ): Promise<{ code: number; data: string } | undefined> | false {
    const conns = this.connectionsOf(app, 'EVENT', '*');
    if (!conns.length) return false;
    const frame = eventFrame(app, this.state.org.corpId, this.messageId(), eventType, data);
    return this.sendTracked(app, frame, conns, this.eventAckTimeoutMs, true);
  }

  private sendTracked(
    app: string,
    frame: DownFrame,
    conns: Connection[],
    timeoutMs: number,
    repush: boolean,
  ) {
    return new Promise<{ code: number; data: string } | undefined>((resolve) => {
      // Frames that wait for an ACK always carry a messageId (SYSTEM ones may not, and are not awaited).
      const messageId = frame.headers.messageId ?? '';
      const entry: PendingAck = { frame, app, resolve, repushes: 0 };
      const arm = () => {
        entry.timer = setTimeout(() => {
          if (repush && entry.repushes < this.maxRepushes) {
            entry.repushes++;
            const again = this.connectionsOf(app, frame.type, frame.headers.topic ?? '');
            if (again.length) this.pick(again).socket.send(JSON.stringify(frame));
            arm();
            return;
          }
          this.pending.delete(messageId);
          resolve(undefined);
        }, timeoutMs);
        entry.timer.unref();
      };
      arm();
      this.pending.set(messageId, entry);
      this.pick(conns).socket.send(JSON.stringify(frame));
    });
  }

  /** SYSTEM ping with an opaque id; the client must echo it. */
  pingAll(): void {
    for (const c of this.connections) {
      if (c.socket.readyState !== WebSocket.OPEN) continue;
      const frame: DownFrame = {
        specVersion: '1.0',
        type: 'SYSTEM',
        headers: {
          topic: 'ping',
          messageId: this.messageId(),
          contentType: 'application/json',
          time: String(Date.now()),
        },
        data: JSON.stringify({ opaque: randomUUID() }),
      };
      c.socket.send(JSON.stringify(frame));
    }
  }

  /** SYSTEM disconnect, then close (DingTalk closes ~10 s later; `closeAfterMs` shortens that for tests). */
  disconnectAll(app?: string, closeAfterMs = 100): number {
    let n = 0;
    for (const c of this.connections) {
      if (app && c.app !== app) continue;
      n++;
      this.disconnectOne(c, 'connection is expired', closeAfterMs);
    }
    return n;
  }

  private disconnectOne(c: Connection, reason: string, closeAfterMs: number): void {
    const frame: DownFrame = {
      specVersion: '1.0',
      type: 'SYSTEM',
      headers: { topic: 'disconnect', contentType: 'application/json', time: String(Date.now()) },
      data: JSON.stringify({ reason }),
    };
    if (c.socket.readyState === WebSocket.OPEN) c.socket.send(JSON.stringify(frame));
    setTimeout(() => c.socket.close(1000, 'disconnect'), closeAfterMs).unref();
  }

  /** Drops sockets without any frame (network failure). */
  dropAll(app?: string): number {
    let n = 0;
    for (const c of this.connections) {
      if (app && c.app !== app) continue;
      n++;
      c.socket.terminate();
    }
    return n;
  }

  /** One connection at random, as DingTalk picks one per push (docs/dingtalk-protocol.md §1.8); callers pass a non-empty list. */
  private pick(conns: Connection[]): Connection {
    const c = conns[Math.floor(Math.random() * conns.length)];
    if (!c) throw new Error('no connection to push to');
    return c;
  }

  private messageId(): string {
    return `${randomText(4, 'hex')}_${Math.floor(Math.random() * 999)}_${Date.now().toString(16)}_${randomText(2, 'hex')}`;
  }

  close(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const p of this.pending.values()) clearTimeout(p.timer);
    for (const c of this.connections) c.socket.terminate();
    this.wss.close();
  }
}

/** An EVENT frame as DingTalk pushes it (docs/dingtalk-protocol.md §1.4; the header set of the Stream protocol page). */
export function eventFrame(
  app: string,
  corpId: string,
  messageId: string,
  eventType: string,
  data: unknown,
): DownFrame {
  const now = String(Date.now());
  return {
    specVersion: '1.0',
    type: 'EVENT',
    headers: {
      topic: '*',
      messageId,
      contentType: 'application/json',
      time: now,
      eventType,
      eventId: randomUUID().replace(/-/g, ''),
      eventCorpId: corpId,
      eventBornTime: now,
      eventUnifiedAppId: app,
    },
    data: JSON.stringify(data),
  };
}
