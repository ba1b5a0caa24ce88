import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SimApp, SimGroup, SimOrg, SimUser } from './org/org.js';
import { randomText } from './random-text.js';

export type MessageKind = 'text' | 'markdown' | 'actionCard' | 'card' | 'link';

export interface SimButton {
  text: string;
  type: 'callback' | 'link';
  url?: string;
  params?: Record<string, string>;
}

/** A message as it appears in a conversation (users' and the bot's). */
export interface SimMessage {
  seq: number;
  conversation: string;
  msgId: string;
  /** userId, or `bot` for the app's robot. */
  sender: string;
  kind: MessageKind;
  title?: string;
  /** Rendered content: text, markdown, or the card's title and markdown. */
  content: string;
  cardId?: string;
  buttons: SimButton[];
  atUserIds: string[];
  /** A user's group message that @mentioned the bot. */
  atBot?: boolean;
  at: number;
  /** How it arrived: user, groupMessages/send, oToMessages/batchSend, sessionWebhook, card. */
  via: string;
}

export interface SimCard {
  outTrackId: string;
  templateId: string;
  conversation: string;
  params: Record<string, string>;
  privateData: Record<string, Record<string, string>>;
  streaming: Record<
    string,
    {
      content: string;
      finalized: boolean;
      error: boolean;
      updates: number;
      /** What each update carried, oldest first (the last 200), for tests of what a viewer saw. */
      sent: string[];
    }
  >;
  callbackType: string;
  /** For `callbackType: HTTP`: the registered callback route. */
  callbackRouteKey?: string;
  messageSeq: number;
  app: string;
  updates: number;
}

export interface CallRecord {
  at: number;
  app?: string;
  method: string;
  path: string;
  status: number;
  code?: string;
  durationMs: number;
}

export interface Faults {
  /** Added to every OpenAPI response. */
  latencyMs: number;
  /** Fraction of OpenAPI calls answered 500. */
  errorRate: number;
  /** Fraction answered 504 after the latency (DingTalk's gateway timeout). */
  timeoutRate: number;
  /** The next N OpenAPI calls are throttled (QPS error). */
  throttleNext: number;
  /** The next N calls answer 500. */
  failNext: number;
  /** Refuse gateway open requests (503). */
  refuseGateway: boolean;
  /**
   * The next N OpenAPI calls are carried out but their answer is lost (504): what a caller
   * sees when DingTalk, the network or the caller itself fails between request and reply.
   */
  loseNextReplies: number;
  /** Only calls whose path contains this are affected by the faults above (all when empty). */
  pathFilter: string;
}

export const NO_FAULTS: Faults = {
  latencyMs: 0,
  errorRate: 0,
  timeoutRate: 0,
  throttleNext: 0,
  failNext: 0,
  loseNextReplies: 0,
  refuseGateway: false,
  pathFilter: '',
};

/** One HTTP push to a bot in URL callback mode (robot message, event, card click). */
export interface PushRecord {
  at: number;
  app: string;
  kind: string;
  url: string;
  ok: boolean;
  status?: number;
  error?: string;
  attempts: number;
}

export interface SessionWebhook {
  session: string;
  app: string;
  conversation: string;
  expiresAt: number;
}

/**
 * What changed, for live viewers (the sandbox): `message` (a new one), `update` (a message
 * redrawn: a card's data or streamed text), `call` (an OpenAPI call answered), and `changed`
 * with what else: `conversations` (a group made, renamed, joined), `settings` (faults, an
 * app's scopes, mode or quota), `connections` (a Stream connection opened or closed).
 */
export type StateChange = 'conversations' | 'settings' | 'connections';

/** Everything the simulated DingTalk knows, in memory. */
export class SimState extends EventEmitter {
  readonly messages: SimMessage[] = [];
  readonly cards = new Map<string, SimCard>();
  readonly calls: CallRecord[] = [];
  readonly tokens = new Map<string, { app: string; expiresAt: number }>();
  readonly sessions = new Map<string, SessionWebhook>();
  readonly pushes: PushRecord[] = [];
  /** Card callback routes registered with `POST /v1.0/card/callbacks/register`, by route key. */
  readonly cardCallbacks = new Map<string, { app: string; url: string; apiSecret: string }>();
  /** Metered calls per app this month. */
  readonly monthly = new Map<string, number>();
  faults: Faults = { ...NO_FAULTS };
  private seq = 0;
  /** Lifetime of sessionWebhooks (DingTalk: ~90 minutes). */
  sessionWebhookTtlMs = 90 * 60_000;
  /** Lifetime of access tokens (DingTalk: 7200 s). */
  tokenTtlMs = 7200_000;

  constructor(readonly org: SimOrg) {
    super();
    this.setMaxListeners(0);
  }

  /** Tells live viewers something other than a message changed. */
  changed(what: StateChange): void {
    this.emit('changed', what);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  user(ref: string): SimUser | undefined {
    const r = ref.replace(/^@/, '').toLowerCase();
    return this.org.users.find(
      (u) => u.userId.toLowerCase() === r || u.name.toLowerCase() === r || u.mobile === ref,
    );
  }

  app(clientIdOrRobot: string): SimApp | undefined {
    return this.org.apps.find((a) => a.clientId === clientIdOrRobot || a.robotCode === clientIdOrRobot);
  }

  group(ref: string): SimGroup | undefined {
    return (
      this.org.groups.find((g) => g.openConversationId === ref) ??
      this.org.groups.find((g) => g.title === ref)
    );
  }

  /** The direct conversation between a user and the bot. */
  dmId(userId: string): string {
    return `cid-dm-${userId}`;
  }

  /** Resolves a conversation reference: openConversationId, group title, `dm:<userId>`, or a DM id. */
  conversationId(ref: string): string | undefined {
    if (ref.startsWith('dm:')) {
      const user = this.user(ref.slice(3));
      return user ? this.dmId(user.userId) : undefined;
    }
    if (ref.startsWith('cid-dm-')) return ref;
    return this.group(ref)?.openConversationId;
  }

  addMessage(m: Omit<SimMessage, 'seq' | 'at' | 'msgId'> & { msgId?: string }): SimMessage {
    const msg: SimMessage = {
      ...m,
      msgId: m.msgId ?? `msg${randomText(12, 'base64url')}==`,
      seq: this.nextSeq(),
      at: Date.now(),
    };
    this.messages.push(msg);
    this.emit('message', msg);
    return msg;
  }

  /** The message with this sequence number (messages are kept in sequence order: a binary search). */
  messageBySeq(seq: number): SimMessage | undefined {
    let lo = 0;
    let hi = this.messages.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = this.messages[mid] as SimMessage;
      if (m.seq === seq) return m;
      if (m.seq < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  recordCall(call: CallRecord): void {
    this.calls.push(call);
    if (this.calls.length > 100_000) this.calls.splice(0, 50_000);
    this.emit('call', call);
  }

  issueToken(app: string): string {
    for (const [t, v] of this.tokens)
      if (v.app === app && v.expiresAt > Date.now()) {
        // DingTalk returns the same token while it is valid, and extends it.
        v.expiresAt = Date.now() + this.tokenTtlMs;
        return t;
      }
    const token = randomText(16, 'hex');
    this.tokens.set(token, { app, expiresAt: Date.now() + this.tokenTtlMs });
    return token;
  }

  newSessionWebhook(app: string, conversation: string): SessionWebhook {
    const s: SessionWebhook = {
      session: randomText(16, 'hex'),
      app,
      conversation,
      expiresAt: Date.now() + this.sessionWebhookTtlMs,
    };
    this.sessions.set(s.session, s);
    return s;
  }

  requestId(): string {
    return randomUUID().toUpperCase();
  }
}
