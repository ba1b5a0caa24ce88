import type { Logger } from 'pino';
import type { Metrics } from '../../observe/metrics.js';
import { backoffMs } from '../../util/backoff.js';
import { token } from '../../util/di-token.js';
import { type HttpReply, httpJson, type JsonBody } from '../../util/http-json.js';
import { classifyLegacy, classifyNewApi, DingTalkApiError } from './api-error.js';
import { SlidingWindowLimiter } from './sliding-window-limiter.js';

export interface OpenApiOptions {
  clientId: string;
  clientSecret: string;
  robotCode: string;
  apiBase: string;
  oapiBase: string;
  qps: number;
  /**
   * Waits for a slot under the app's QPS shared with other replicas (PostgreSQL,
   * `cluster/shared-rate-limiter.ts`). Without it, this process keeps the limit alone.
   */
  sharedRate?: (api: string) => Promise<void>;
  /** HTTP mode: cards call back our registered URL under this key instead of over Stream. */
  cardCallbackRouteKey?: string;
  /** Per-request timeout (DingTalk's own gateway gives up after about 3 s). */
  timeoutMs?: number;
  /**
   * A call DingTalk throttled is tried again this many times, after backoff from
   * `throttleBaseMs` (default twice, from 0.5 s: DingTalk lifts a QPS penalty within about a
   * second, docs/dingtalk-protocol.md §6.2); then the caller sees the throttled error (the
   * outbox retries its rows later still; a direct call's caller is told).
   */
  throttleRetries?: number;
  throttleBaseMs?: number;
  now?: () => number;
}

/** Hosts a sessionWebhook may point at, besides the configured legacy base. */
const DINGTALK_WEBHOOK_HOSTS = new Set(['oapi.dingtalk.com', 'api.dingtalk.com']);

type Style = 'new' | 'legacy';

/**
 * The DingTalk OpenAPI subset dingops uses. Keeps the access token (refreshed five minutes
 * before it expires, one refresh in flight, refreshed once more on an auth error), stays
 * within the app's QPS per API, and turns every failure into a classified DingTalkApiError.
 */
export class OpenApiClient {
  private token: { value: string; expiresAt: number } | undefined;
  private refreshing: Promise<string> | undefined;
  private readonly limiters = new Map<string, SlidingWindowLimiter>();
  private readonly now: () => number;
  /** Called for every metered call (robot, cards, groups, users), for the monthly budget. */
  onMeteredCall: (api: string) => void = () => undefined;
  /** Called with the scopes an error said were missing (diagnostics read them). */
  onMissingScopes: (api: string, scopes: string[]) => void = () => undefined;
  /** Called when DingTalk says the organisation's monthly quota is used up (admins are told). */
  onQuotaExhausted: (api: string) => void = () => undefined;

  constructor(
    private readonly options: OpenApiOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.now = options.now ?? Date.now;
  }

  get robotCode(): string {
    return this.options.robotCode;
  }

  /** A valid access token (new API `POST /v1.0/oauth2/accessToken`). */
  async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt - 5 * 60_000 > this.now()) return this.token.value;
    this.refreshing ??= this.fetchToken().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async fetchToken(): Promise<string> {
    const res = await this.fetch('accessToken', `${this.options.apiBase}/v1.0/oauth2/accessToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ appKey: this.options.clientId, appSecret: this.options.clientSecret }),
    });
    const body = res.json;
    if (!res.ok || typeof body?.accessToken !== 'string' || !body.accessToken)
      throw classifyNewApi('oauth2/accessToken', res.status, body);
    this.token = { value: body.accessToken, expiresAt: this.now() + Number(body.expireIn ?? 7200) * 1000 };
    return this.token.value;
  }

  /** Forgets the token (after DingTalk rejected it). */
  invalidateToken(): void {
    this.token = undefined;
  }

  private limiter(api: string): SlidingWindowLimiter {
    let l = this.limiters.get(api);
    if (!l) {
      l = new SlidingWindowLimiter(this.options.qps);
      this.limiters.set(api, l);
    }
    return l;
  }

  /** One OpenAPI call: token, QPS, classification, one token refresh on an auth error. */
  async call<T = unknown>(
    style: Style,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body: unknown,
    /** A failure DingTalk reports inside a successful answer (docs/dingtalk-protocol.md §5.6.1). */
    failureIn?: (json: JsonBody, api: string) => DingTalkApiError | undefined,
  ): Promise<T> {
    const api = path.replace(/^\/(v1\.0\/|topapi\/)/, '');
    let throttled = 0;
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      if (this.options.sharedRate) await this.options.sharedRate(path);
      else await this.limiter(path).acquire();
      this.onMeteredCall(api);
      const base = style === 'new' ? this.options.apiBase : this.options.oapiBase;
      const url =
        style === 'new' ? `${base}${path}` : `${base}${path}?access_token=${encodeURIComponent(token)}`;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
      };
      if (style === 'new') headers['x-acs-dingtalk-access-token'] = token;
      const res = await this.fetch(api, url, { method, headers, body: JSON.stringify(body) });
      const json = res.json;
      let error: DingTalkApiError | undefined;
      if (style === 'new' && !res.ok) error = classifyNewApi(api, res.status, json);
      else if (style === 'legacy' && (!res.ok || (json && Number(json.errcode ?? 0) !== 0)))
        error = res.ok ? classifyLegacy(api, json) : classifyNewApi(api, res.status, json);
      error ??= failureIn?.(json, api);
      this.metrics?.apiCalls.inc(api, error ? error.kind : 'ok');
      if (!error) return json as T;
      if (error.kind === 'auth' && attempt === 0) {
        this.log.warn({ api, code: error.code }, 'access token rejected; refreshing once');
        this.invalidateToken();
        continue;
      }
      if (error.kind === 'throttled' && throttled < (this.options.throttleRetries ?? 2)) {
        // Within the QPS budget again after a pause: the limiter above spaces the retry too.
        const wait = backoffMs(throttled++, this.options.throttleBaseMs ?? 500, 4_000);
        this.log.warn({ api, code: error.code, retryInMs: wait }, 'DingTalk throttled the call; retrying');
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
      if (error.kind === 'permission') this.onMissingScopes(api, error.requiredScopes);
      if (error.kind === 'quota') this.onQuotaExhausted(api);
      throw error;
    }
  }

  /** One HTTP exchange over the shared keep-alive pool; network failures are `transient`. */
  private async fetch(
    api: string,
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ): Promise<HttpReply> {
    try {
      return await httpJson(url, { ...init, timeoutMs: this.options.timeoutMs ?? 10_000 });
    } catch (err) {
      this.metrics?.apiCalls.inc(api, 'transient');
      throw new DingTalkApiError(
        'transient',
        api,
        '',
        `network error: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  // --- Robot messages (docs/dingtalk-protocol.md §5.3)

  sendGroupMessage(
    openConversationId: string,
    msgKey: string,
    msgParam: Record<string, string>,
    robotCode = this.options.robotCode,
  ) {
    return this.call<{ processQueryKey: string }>('new', 'POST', '/v1.0/robot/groupMessages/send', {
      robotCode,
      openConversationId,
      msgKey,
      msgParam: JSON.stringify(msgParam),
    });
  }

  sendToUsers(userIds: string[], msgKey: string, msgParam: Record<string, string>) {
    return this.call<{
      processQueryKey: string;
      invalidStaffIdList?: string[];
      flowControlledStaffIdList?: string[];
    }>('new', 'POST', '/v1.0/robot/oToMessages/batchSend', {
      robotCode: this.options.robotCode,
      userIds,
      msgKey,
      msgParam: JSON.stringify(msgParam),
    });
  }

  /**
   * Replies through a message's sessionWebhook. The access token is never sent there, and
   * only DingTalk's hosts (or the configured legacy base, e.g. the simulator) are accepted:
   * a forged webhook URL must not become a way to make the bot post elsewhere.
   */
  async sendBySessionWebhook(webhook: string, body: Record<string, unknown>): Promise<void> {
    let url: URL;
    try {
      url = new URL(webhook);
    } catch {
      throw new DingTalkApiError('invalid', 'sendBySession', '', 'sessionWebhook is not a URL');
    }
    const allowed = new URL(this.options.oapiBase);
    const trusted =
      (url.protocol === 'https:' && DINGTALK_WEBHOOK_HOSTS.has(url.hostname)) ||
      (url.origin === allowed.origin && url.pathname === '/robot/sendBySession');
    if (!trusted)
      throw new DingTalkApiError('invalid', 'sendBySession', '', `refusing sessionWebhook host ${url.host}`);
    const res = await this.fetch('sendBySession', url.toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = res.json;
    if (res.status === 404)
      throw new DingTalkApiError('gone', 'sendBySession', '404', 'session webhook not found');
    const error = !res.ok
      ? classifyNewApi('sendBySession', res.status, json)
      : json && Number(json.errcode ?? 0) !== 0
        ? classifyLegacy('sendBySession', json)
        : undefined;
    this.metrics?.apiCalls.inc('sendBySession', error ? error.kind : 'ok');
    if (error) throw error;
  }

  // --- Interactive cards (docs/dingtalk-protocol.md §5.6)

  createAndDeliverCard(input: {
    outTrackId: string;
    cardTemplateId: string;
    cardParamMap: Record<string, string>;
    openConversationId?: string;
    userId?: string;
    atUserIds?: string[];
    robotCode?: string;
  }) {
    const group = input.openConversationId;
    const robotCode = input.robotCode ?? this.options.robotCode;
    return this.call<CreateAndDeliverAnswer>(
      'new',
      'POST',
      '/v1.0/card/instances/createAndDeliver',
      {
        cardTemplateId: input.cardTemplateId,
        outTrackId: input.outTrackId,
        cardData: { cardParamMap: input.cardParamMap },
        ...(this.options.cardCallbackRouteKey
          ? { callbackType: 'HTTP', callbackRouteKey: this.options.cardCallbackRouteKey }
          : { callbackType: 'STREAM' }),
        openSpaceId: group ? `dtv1.card//IM_GROUP.${group}` : `dtv1.card//IM_ROBOT.${input.userId}`,
        ...(group
          ? {
              imGroupOpenSpaceModel: { supportForward: true },
              imGroupOpenDeliverModel: {
                robotCode,
                ...(input.atUserIds?.length
                  ? { atUserIds: Object.fromEntries(input.atUserIds.map((u) => [u, u])) }
                  : {}),
              },
            }
          : {
              imRobotOpenSpaceModel: { supportForward: true },
              imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: this.options.robotCode },
            }),
        userIdType: 1,
      },
      undeliveredCard,
    );
  }

  /** Where DingTalk sends the button clicks of cards created with `callbackType: HTTP` (docs/dingtalk-protocol.md §5.6.5). */
  registerCardCallback(input: { callbackRouteKey: string; callbackUrl: string; apiSecret: string }) {
    return this.call('new', 'POST', '/v1.0/card/callbacks/register', { ...input, forceUpdate: true });
  }

  updateCard(outTrackId: string, cardParamMap: Record<string, string>) {
    return this.call('new', 'PUT', '/v1.0/card/instances', {
      outTrackId,
      cardData: { cardParamMap },
      cardUpdateOptions: { updateCardDataByKey: true },
      userIdType: 1,
    });
  }

  streamCard(input: {
    outTrackId: string;
    guid: string;
    key: string;
    content: string;
    isFull: boolean;
    isFinalize: boolean;
    isError?: boolean;
  }) {
    return this.call('new', 'PUT', '/v1.0/card/streaming', { ...input, isError: input.isError ?? false });
  }

  // --- Groups and people (docs/dingtalk-protocol.md §5.7)

  createSceneGroup(input: {
    title: string;
    templateId: string;
    ownerUserId: string;
    userIds: string[];
    uuid: string;
  }) {
    return this.call<{ result: { open_conversation_id: string; chat_id: string } }>(
      'legacy',
      'POST',
      '/topapi/im/chat/scenegroup/create',
      {
        title: input.title,
        template_id: input.templateId,
        owner_user_id: input.ownerUserId,
        user_ids: input.userIds.join(','),
        uuid: input.uuid,
      },
    );
  }

  addSceneGroupMembers(openConversationId: string, userIds: string[]) {
    return this.call('legacy', 'POST', '/topapi/im/chat/scenegroup/member/add', {
      open_conversation_id: openConversationId,
      user_ids: userIds.join(','),
    });
  }

  getSceneGroup(openConversationId: string) {
    return this.call<{ result: Record<string, unknown> }>(
      'legacy',
      'POST',
      '/topapi/im/chat/scenegroup/get',
      { open_conversation_id: openConversationId },
    );
  }

  groupBaseInfo(openConversationId: string) {
    return this.call<{ result: { openConversationId: string; title: string; memberCount: number } }>(
      'new',
      'POST',
      '/v1.0/im/groups/baseInfos/query',
      { openConversationId },
    );
  }

  /** The userId of a mobile number in the organisation, or undefined when nobody has it. */
  async userIdByMobile(mobile: string): Promise<string | undefined> {
    try {
      const r = await this.call<{ result: { userid: string } }>(
        'legacy',
        'POST',
        '/topapi/v2/user/getbymobile',
        { mobile },
      );
      return r.result.userid;
    } catch (err) {
      if (err instanceof DingTalkApiError && err.code === '60121') return undefined;
      throw err;
    }
  }
}

/** What createAndDeliver answers (alisdk `card_1_0` CreateAndDeliverResponseBody). */
export interface CreateAndDeliverAnswer {
  success?: boolean;
  result?: {
    outTrackId?: string;
    deliverResults?: Array<{
      spaceType?: string;
      spaceId?: string;
      success?: boolean;
      errorMsg?: string;
      carrierId?: string;
    }>;
  };
}

/**
 * A card DingTalk answered 200 for but did not deliver: `result.deliverResults[]` says so per
 * recipient with `success: false` and an `errorMsg` (the robot is not in the group, the
 * recipient cannot receive it; docs/dingtalk-protocol.md §5.6.1). We deliver to one space per
 * call, so one failed recipient is a failed send: a server-side error is retried, anything
 * else is a refusal (the caller sends the card as markdown instead, or dead-letters it).
 */
function undeliveredCard(json: JsonBody, api: string): DingTalkApiError | undefined {
  const results = (json as CreateAndDeliverAnswer | undefined)?.result?.deliverResults;
  if (!Array.isArray(results)) return undefined;
  const failed = results.find((r) => r && r.success === false);
  if (!failed) return undefined;
  const why = String(failed.errorMsg ?? '').slice(0, 300) || 'no reason given';
  const transient = /system error|系统|繁忙|busy|timeout|超时/i.test(why);
  return new DingTalkApiError(
    transient ? 'transient' : 'invalid',
    api,
    'deliverResults',
    `card not delivered to ${failed.spaceType ?? 'space'} ${failed.spaceId ?? ''}: ${why}`,
    200,
  );
}

/** The DI token of the OpenApiClient. */
export const OpenApiToken = token<OpenApiClient>('OpenApi');
