import type { HttpPush } from './http-push.js';
import { field } from './json-fields.js';
import { refreshCardMessage } from './openapi/cards.js';
import { renderCard } from './openapi/render.js';
import type { SimApp, SimGroup } from './org/org.js';
import { cardCallbackPayload, robotMessagePayload, TOPIC_CARD, TOPIC_ROBOT } from './robot-push.js';
import {
  type CallRecord,
  type Faults,
  NO_FAULTS,
  type PushRecord,
  type SimMessage,
  type SimState,
} from './state.js';
import type { StreamGateway } from './stream-gateway.js';

export class TestApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface SayInput {
  /** openConversationId or group title; null for a direct message to the bot. */
  conversation: string | null;
  sender: string;
  text: string;
  /** Group messages reach the bot only when it is @mentioned (default true). */
  atBot?: boolean;
  /** The app to talk to (default: the first app). */
  app?: string;
  /**
   * How the client sends it (docs/dingtalk-protocol.md §2.1): `text` (default), or `richText`,
   * as DingTalk sends text with pictures pasted in, or a mention and words as separate segments.
   */
  format?: 'text' | 'richText';
  /** Pictures pasted into the message (richText only). */
  pictures?: number;
}

export interface SayResult {
  msgId: string;
  conversation: string;
  /** Whether the bot was sent the message (false when it was not @mentioned or not connected). */
  delivered: boolean;
}

/** What `GET /sim/api/cards/<id>` and a click return. */
export interface CardView {
  outTrackId: string;
  conversation: string;
  templateId: string;
  params: Record<string, string>;
  streaming: Record<string, { content: string; finalized: boolean; error: boolean; updates: number }>;
  title: string;
  content: string;
  buttons: SimMessage['buttons'];
  updates: number;
}

/**
 * The simulator's own API (`/sim/api/...`): say things as users, read conversations,
 * click card buttons, inspect the OpenAPI calls the bot made, inject faults. The HTTP
 * routes and the in-process client both call these methods.
 */
export class TestApi {
  constructor(
    private readonly state: SimState,
    private readonly gateway: StreamGateway,
    private readonly urls: () => { base: string },
    private readonly push: HttpPush,
  ) {}

  private app(ref?: string): SimApp {
    const app = ref ? this.state.app(ref) : this.state.org.apps[0];
    if (!app) throw new TestApiError(404, `no app ${ref ?? '(none configured)'}`);
    return app;
  }

  /** POST /sim/api/messages */
  async say(input: SayInput): Promise<SayResult> {
    const sender = this.state.user(input.sender ?? '');
    if (!sender) throw new TestApiError(400, `unknown sender '${input.sender}'`);
    const pictures = Math.max(0, Math.min(9, Number(input.pictures ?? 0) || 0));
    if (input.format !== undefined && input.format !== 'text' && input.format !== 'richText')
      throw new TestApiError(400, "format is 'text' or 'richText'");
    if (pictures && input.format !== 'richText')
      throw new TestApiError(400, "pictures need format 'richText'");
    if (typeof input.text !== 'string' || (!input.text.trim() && !pictures))
      throw new TestApiError(400, 'text is required');
    const app = this.app(input.app);
    let inGroup: SimGroup | undefined;
    if (input.conversation !== null && input.conversation !== undefined) {
      inGroup = this.state.group(input.conversation);
      if (!inGroup) throw new TestApiError(404, `no group '${input.conversation}'`);
      if (inGroup.disbanded) throw new TestApiError(400, `${inGroup.title} was disbanded`);
      if (!inGroup.members.includes(sender.userId))
        throw new TestApiError(400, `${sender.userId} is not a member of ${inGroup.title}`);
    }
    const group = inGroup?.openConversationId;
    const conversation = group ?? this.state.dmId(sender.userId);
    const atBot = input.atBot !== false;
    const mentions = [...input.text.matchAll(/@([\w.-]+)/g)]
      .map((m) => this.state.user(m[1] ?? ''))
      .filter((u) => u !== undefined);
    const msg = this.state.addMessage({
      conversation,
      sender: sender.userId,
      kind: 'text',
      content: input.text,
      buttons: [],
      atUserIds: mentions.map((u) => u.userId),
      atBot: inGroup ? atBot : undefined,
      via: 'user',
    });
    if (inGroup) {
      const g = inGroup;
      // DingTalk delivers group messages to the bot only when it is @mentioned, and only
      // where the bot (the cool app) is in the group.
      // A scene group's robot belongs to its template's app.
      const botHere = g.robotCode
        ? this.state.org.sceneGroupTemplates.some(
            (t) => t.templateId === g.templateId && t.clientId === app.clientId,
          )
        : g.coolAppInstalled;
      if (!atBot || !botHere) return { msgId: msg.msgId, conversation, delivered: false };
    }
    const payload = robotMessagePayload(this.state, {
      app,
      sender,
      group,
      text: input.text,
      msgId: msg.msgId,
      mentions,
      webhookBase: this.urls().base,
      format: input.format,
      pictures,
    });
    if (app.mode === 'http') {
      const r = await this.push.robot(app, payload);
      return { msgId: msg.msgId, conversation, delivered: r.ok };
    }
    const pushed = this.gateway.pushCallback(app.clientId, TOPIC_ROBOT, payload);
    if (pushed === false) return { msgId: msg.msgId, conversation, delivered: false };
    return { msgId: msg.msgId, conversation, delivered: true };
  }

  /** The robot-message payload DingTalk pushes for a user's message (as the bot receives it). */
  robotPayload(msgId: string, appRef?: string): Record<string, unknown> {
    const msg = this.state.messages.find((m) => m.msgId === msgId && m.via === 'user');
    if (!msg) throw new TestApiError(404, `no user message '${msgId}'`);
    const sender = this.state.user(msg.sender);
    if (!sender) throw new TestApiError(404, `no user '${msg.sender}'`);
    const group = msg.conversation.startsWith('cid-dm-') ? undefined : msg.conversation;
    const mentions = msg.atUserIds.flatMap((u) => this.state.user(u) ?? []);
    return robotMessagePayload(this.state, {
      app: this.app(appRef),
      sender,
      group,
      text: msg.content,
      msgId,
      mentions,
      webhookBase: this.urls().base,
    });
  }

  /** POST /sim/api/messages/<msgId>/repush: pushes a user's message again, as DingTalk may. */
  async repush(msgId: string, appRef?: string): Promise<{ acked: boolean; status?: number }> {
    const app = this.app(appRef);
    if (app.mode === 'http') {
      const r = await this.push.robot(app, this.robotPayload(msgId, appRef));
      return { acked: r.ok, status: r.status };
    }
    const pushed = this.gateway.pushCallback(
      this.app(appRef).clientId,
      TOPIC_ROBOT,
      this.robotPayload(msgId, appRef),
    );
    return { acked: pushed !== false && (await pushed) !== undefined };
  }

  /** GET /sim/api/messages?conversation=&after= */
  messages(conversationRef: string, after = 0): { messages: SimMessage[]; cursor: number } {
    const conversation = this.state.conversationId(conversationRef);
    if (!conversation) throw new TestApiError(404, `no conversation '${conversationRef}'`);
    const messages = this.state.messages.filter((m) => m.conversation === conversation && m.seq > after);
    return { messages, cursor: messages.at(-1)?.seq ?? after };
  }

  card(outTrackId: string): CardView {
    const card = this.state.cards.get(outTrackId);
    if (!card) throw new TestApiError(404, `no card '${outTrackId}'`);
    const r = renderCard(card.templateId, card.params, card.streaming);
    return {
      outTrackId,
      conversation: card.conversation,
      templateId: card.templateId,
      params: { ...card.params },
      streaming: structuredClone(card.streaming),
      title: r.title ?? '',
      content: r.content,
      buttons: r.buttons,
      updates: card.updates,
    };
  }

  /**
   * POST /sim/api/cards/<outTrackId>/actions: a user clicks a button. The callback goes to
   * the bot over Stream; its response (cardData / userPrivateData) is applied to the card,
   * which is returned as it is afterwards.
   */
  async click(
    outTrackId: string,
    sender: string,
    params: Record<string, string>,
  ): Promise<CardView & { responded: boolean }> {
    const card = this.state.cards.get(outTrackId);
    if (!card) throw new TestApiError(404, `no card '${outTrackId}'`);
    const user = this.state.user(sender);
    if (!user) throw new TestApiError(400, `unknown sender '${sender}'`);
    const spaceId = card.conversation.startsWith('cid-dm-') ? user.userId : card.conversation;
    const payload = cardCallbackPayload(this.state, outTrackId, spaceId, user.userId, params);
    const response = await this.cardCallback(card, payload);
    if (response) {
      try {
        const data = field(response, 'cardData', 'cardParamMap') as Record<string, string> | undefined;
        if (data) {
          card.params =
            field(response, 'cardUpdateOptions', 'updateCardDataByKey') === false
              ? { ...data }
              : { ...card.params, ...data };
          card.updates++;
        }
        const priv = field(response, 'userPrivateData', 'cardParamMap') as Record<string, string> | undefined;
        if (priv) card.privateData[user.userId] = { ...(card.privateData[user.userId] ?? {}), ...priv };
        refreshCardMessage(this.state, card);
      } catch {
        // A malformed response leaves the card as it was, as DingTalk does.
      }
    }
    return { ...this.card(outTrackId), responded: response !== undefined };
  }

  /** Sends a click to the bot: over Stream, or to the registered URL for HTTP-callback cards. */
  private async cardCallback(
    card: { app: string; callbackType: string; callbackRouteKey?: string; outTrackId: string },
    payload: Record<string, unknown>,
  ): Promise<Record<string, unknown> | undefined> {
    if (card.callbackType === 'HTTP') {
      const target = card.callbackRouteKey ? this.state.cardCallbacks.get(card.callbackRouteKey) : undefined;
      if (!target)
        throw new TestApiError(
          400,
          `card ${card.outTrackId} calls back route '${card.callbackRouteKey}', which no app registered`,
        );
      return this.push.card(this.app(card.app), target, payload);
    }
    // DingTalk waits about 2 s for the callback response.
    const pushed = this.gateway.pushCallback(card.app, TOPIC_CARD, payload, 2_000);
    const ack = pushed === false ? undefined : await pushed;
    if (!ack?.data) return ack ? {} : undefined;
    try {
      return (JSON.parse(ack.data) as { response?: Record<string, unknown> }).response ?? {};
    } catch {
      return {};
    }
  }

  /** GET /sim/api/calls */
  calls(app?: string): { calls: CallRecord[]; quota: Record<string, { used: number; limit: number }> } {
    const quota: Record<string, { used: number; limit: number }> = {};
    for (const a of this.state.org.apps)
      quota[a.clientId] = { used: this.state.monthly.get(a.clientId) ?? 0, limit: a.monthlyQuota };
    return { calls: app ? this.state.calls.filter((c) => c.app === app) : [...this.state.calls], quota };
  }

  /** POST /sim/api/faults (partial), DELETE resets. */
  setFaults(f: Partial<Faults> | null): Faults {
    this.state.faults = f ? { ...this.state.faults, ...f } : { ...NO_FAULTS };
    this.state.changed('settings');
    return this.state.faults;
  }

  /** POST /sim/api/apps/<clientId>: change scopes, quota, mode, publication (to reproduce setup mistakes). */
  async updateApp(
    ref: string,
    patch: Partial<
      Pick<
        SimApp,
        | 'scopes'
        | 'qps'
        | 'monthlyQuota'
        | 'mode'
        | 'published'
        | 'callbackUrl'
        | 'eventUrl'
        | 'aesKey'
        | 'token'
        | 'encryptRobotMessages'
      >
    > & { used?: number },
  ): Promise<SimApp & { checkUrl?: { ok: boolean; error?: string } }> {
    const app = this.app(ref);
    const { used, ...rest } = patch;
    if (rest.aesKey !== undefined && !/^[A-Za-z0-9]{43}$/.test(rest.aesKey))
      throw new TestApiError(400, 'aesKey must be 43 letters and digits');
    if (rest.token !== undefined && !/^[A-Za-z0-9]{3,32}$/.test(rest.token))
      throw new TestApiError(400, 'token must be 3-32 letters and digits');
    Object.assign(app, rest);
    if (used !== undefined) this.state.monthly.set(app.clientId, used);
    this.state.changed('settings');
    // Saving an event URL in the console verifies it with check_url (docs/dingtalk-protocol.md §4.6).
    const eventSettings = ['eventUrl', 'aesKey', 'token', 'mode'].some((k) => k in rest);
    if (app.mode === 'http' && app.eventUrl && eventSettings) {
      const r = await this.push.checkUrl(app);
      return { ...app, checkUrl: { ok: r.ok, error: r.error } };
    }
    return app;
  }

  /** POST /sim/api/events: push a DingTalk event to the app (Stream EVENT frame). */
  async event(
    type: string,
    data: Record<string, unknown>,
    appRef?: string,
  ): Promise<{ delivered: boolean; acked: boolean; error?: string }> {
    const app = this.app(appRef);
    if (app.mode === 'http') {
      const r = await this.push.event(app, type, data);
      return { delivered: r.status !== undefined && r.status !== 0, acked: r.ok, error: r.error };
    }
    const pushed = this.gateway.pushEvent(app.clientId, type, data);
    if (pushed === false) return { delivered: false, acked: false };
    return { delivered: true, acked: (await pushed) !== undefined };
  }

  /**
   * POST /sim/api/groups/<id>/install | uninstall | rename | disband: what an operator does in the
   * DingTalk client, with the event DingTalk pushes (over the app's mode).
   */
  async groupChange(
    ref: string,
    change: 'install' | 'uninstall' | 'rename' | 'disband',
    input: { title?: string; operator?: string; app?: string },
  ): Promise<{ group: SimGroup; delivered: boolean; acked: boolean; error?: string }> {
    const group = this.state.group(ref);
    if (!group) throw new TestApiError(404, `no group '${ref}'`);
    const app = this.app(input.app);
    const operator = this.state.user(input.operator ?? group.members[0] ?? '')?.userId ?? '';
    const now = Date.now();
    let type: string;
    let data: Record<string, unknown>;
    if (change === 'rename') {
      const title = input.title?.trim();
      if (!title) throw new TestApiError(400, 'title is required');
      group.title = title;
      this.state.changed('conversations');
      type = 'chat_update_title';
      // Stream data of a real push (docs/dingtalk-protocol.md §4.10).
      data = {
        timeStamp: now,
        chatId: `chat${group.openConversationId.replace(/[^a-z0-9]/gi, '')}`,
        operatorUnionId: `union-${operator}`,
        title,
        openConversationId: group.openConversationId,
        operator,
      };
    } else if (change === 'disband') {
      // The owner disbands the group: it is gone for everyone, the robot included.
      group.disbanded = true;
      group.coolAppInstalled = false;
      this.state.changed('conversations');
      type = 'chat_disband';
      data = {
        timeStamp: now,
        chatId: `chat${group.openConversationId.replace(/[^a-z0-9]/gi, '')}`,
        operatorUnionId: `union-${operator}`,
        openConversationId: group.openConversationId,
        operator,
      };
    } else {
      group.coolAppInstalled = change === 'install';
      this.state.changed('conversations');
      type = change === 'install' ? 'im_cool_app_install' : 'im_cool_app_uninstall';
      data = {
        coolAppCode: `COOLAPP-1-${app.robotCode}`,
        operateTime: String(now),
        openConversationCorpId: this.state.org.corpId,
        robotCode: app.robotCode,
        openConversationId: group.openConversationId,
        operator,
      };
    }
    return { group, ...(await this.event(type, data, app.clientId)) };
  }

  /** GET /sim/api/pushes: HTTP pushes to bots in URL callback mode, with the outcome. */
  pushes(app?: string): PushRecord[] {
    return this.state.pushes.filter((p) => !app || p.app === app);
  }

  stream(action: 'disconnect' | 'drop' | 'ping', appRef?: string): { connections: number } {
    const app = appRef ? this.app(appRef).clientId : undefined;
    if (action === 'ping') {
      this.gateway.pingAll();
      return { connections: this.gateway.connections.size };
    }
    return {
      connections: action === 'disconnect' ? this.gateway.disconnectAll(app) : this.gateway.dropAll(app),
    };
  }

  connections(appRef?: string): number {
    const app = appRef ? this.app(appRef).clientId : undefined;
    return [...this.gateway.connections].filter((c) => !app || c.app === app).length;
  }
}
