import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DependencyContainer } from 'tsyringe';
import type { CardRenderer } from '../cards/card-renderer.js';
import { RendererToken } from '../cards/card-renderer.js';
import type { CoreConfig } from '../config/core-schema.js';
import { CoreConfigToken } from '../config/core-schema.js';
import { callbackUrl } from '../config/public-url.js';
import type { AccessControl } from '../decide/access-control.js';
import { AccessToken } from '../decide/access-control.js';
import { DingTalkMessenger } from '../deliver/dingtalk-messenger.js';
import { MessengerToken } from '../deliver/messenger.js';
import { ApiBudget, ApiBudgetToken } from '../deliver/openapi/api-budget.js';
import { OpenApiClient, OpenApiToken } from '../deliver/openapi/openapi-client.js';
import { Outbox, type OutboxOptions, OutboxToken } from '../deliver/outbox.js';
import type { GroupRegistry } from '../directory/group-registry.js';
import { GroupsToken } from '../directory/group-registry.js';
import type { I18n } from '../i18n/i18n.js';
import { I18nToken } from '../i18n/i18n.js';
import type { Conversation } from '../messages/inbound.js';
import { LoggerToken } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { MetricsToken } from '../observe/metrics.js';
import type { StatusBoard } from '../observe/status.js';
import { StatusToken } from '../observe/status.js';
import { CardCallbacks } from '../receive/card-callbacks.js';
import { CallbackCrypto } from '../receive/http/callback-crypto.js';
import { HttpCallbackTransport } from '../receive/http/http-callback-transport.js';
import type { HttpServer } from '../receive/http/http-server.js';
import { HttpToken } from '../receive/http/http-server.js';
import { InboundIntake } from '../receive/inbound-intake.js';
import { Inbox, InboxToken } from '../receive/inbox.js';
import { StreamTransport } from '../receive/stream/stream-transport.js';
import type { Transport } from '../receive/transport.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { SchedulerToken } from '../scheduler/scheduler.js';
import type { Database } from '../storage/database.js';
import { DatabaseToken } from '../storage/database.js';
import { SqlKeyValueStore } from '../storage/kv-store.js';
import type { ReplayGuard } from '../storage/replay-guard.js';
import { ReplayGuardToken } from '../storage/replay-guard.js';

/**
 * Registers the DingTalk delivery stack in the bot's container (OpenAPI client, outbox,
 * messenger, API budget) for `BotOptions.compose`.
 */
export function composeDingTalk(c: DependencyContainer, options: { outbox?: OutboxOptions } = {}): void {
  const config = c.resolve<CoreConfig>(CoreConfigToken);
  const log = c.resolve<Logger>(LoggerToken).child({ component: 'dingtalk' });
  const metrics = c.resolve<Metrics>(MetricsToken);
  const store = c.resolve<Database>(DatabaseToken);
  const db = store.db as Kysely<any>;
  const d = config.dingtalk;
  const api = new OpenApiClient(
    {
      clientId: d.clientId,
      clientSecret: d.clientSecret,
      robotCode: d.robotCode,
      apiBase: d.apiBase,
      oapiBase: d.oapiBase,
      qps: d.limits.qps,
      cardCallbackRouteKey: d.mode === 'http' ? cardRouteKey(d.clientId) : undefined,
    },
    log,
    metrics,
  );
  const budget = new ApiBudget(
    new SqlKeyValueStore(db, 'core'),
    d.limits.monthlyCalls,
    log,
    metrics.registry,
  );
  api.onMeteredCall = () => budget.count();
  const renderer = c.resolve<CardRenderer>(RendererToken);
  let messenger: DingTalkMessenger | undefined;
  const outbox = new Outbox(store, (row) => messenger!.deliver(row), log, metrics, options.outbox);
  messenger = new DingTalkMessenger(outbox, api, renderer, store, log, config.locale, budget);
  const i18n = c.resolve<I18n>(I18nToken);
  budget.onWarning = (threshold, s) => {
    const access = c.resolve<AccessControl>(AccessToken);
    const text = i18n.t('dingtalk.budgetWarning', {
      percent: Math.round(threshold * 100),
      used: s.used,
      limit: s.limit,
      projected: s.projected,
    });
    for (const admin of access.adminIds)
      void messenger!.send({ kind: 'user', userId: admin }, text).catch(() => undefined);
  };
  const m = messenger;
  const inbox = new Inbox(store);
  c.registerInstance(InboxToken, inbox);
  // Delivered messages and handled inbound ids are kept a while (for inspection and
  // de-duplication), then removed so the tables stay small.
  c.resolve<Scheduler>(SchedulerToken).schedule('core', 'dingtalk-prune', '17 * * * *', async () => {
    const removed = await outbox.prune();
    await inbox.prune();
    log.debug({ removed }, 'pruned delivered outbox rows');
  });
  c.registerInstance(OpenApiToken, api);
  // A group the app is installed in: its title comes from DingTalk (the event has none).
  c.resolve<GroupRegistry>(GroupsToken).titleLookup = async (id) =>
    (await api.groupBaseInfo(id)).result.title;
  c.registerInstance(OutboxToken, outbox);
  c.registerInstance(ApiBudgetToken, budget);
  c.registerInstance(MessengerToken, m);
  const status = c.resolve<StatusBoard>(StatusToken);
  status.register('core', 'outbox', () => ({
    name: { key: 'status.outbox' },
    ok: outbox.deadCount === 0,
    detail: {
      key: outbox.lastDeadReason ? 'status.outboxDetailDead' : 'status.outboxDetail',
      vars: { queued: outbox.pendingCount, dead: outbox.deadCount, reason: outbox.lastDeadReason ?? '' },
    },
  }));
  status.register('core', 'api-budget', () => {
    const s = budget.snapshot();
    return {
      name: { key: 'status.budget' },
      ok: s.projected <= s.limit,
      detail: { key: 'status.budgetDetail', vars: { used: s.used, limit: s.limit, projected: s.projected } },
    };
  });
}

/** What both DingTalk transports share: the inbound intake and card callback handling. */
function inboundParts(c: DependencyContainer, via: string): { intake: InboundIntake; cards: CardCallbacks } {
  const config = c.resolve<CoreConfig>(CoreConfigToken);
  const db = c.resolve<Database>(DatabaseToken).db as Kysely<any>;
  const log = c.resolve<Logger>(LoggerToken).child({ component: via });
  const inbox = c.resolve<Inbox>(InboxToken);
  const cardConversation = async (cardId: string): Promise<Conversation | undefined> => {
    const row = await db
      .selectFrom('card_instance')
      .select('destination')
      .where('card_id', '=', cardId)
      .executeTakeFirst();
    if (!row) return undefined;
    const t = JSON.parse(row.destination) as
      | { type: 'group'; openConversationId: string }
      | { type: 'user'; userId: string };
    return t.type === 'group'
      ? { id: t.openConversationId, type: 'group' }
      : { id: `dm:${t.userId}`, type: 'direct' };
  };
  return {
    intake: new InboundIntake(inbox, via, log),
    cards: new CardCallbacks(
      { locale: config.locale },
      inbox,
      c.resolve(MessengerToken),
      c.resolve(RendererToken),
      cardConversation,
      log,
    ),
  };
}

/** The Stream mode transport, built from the container composed by `composeDingTalk`. */
export function streamTransport(c: DependencyContainer): Transport {
  const d = c.resolve<CoreConfig>(CoreConfigToken).dingtalk;
  const { intake, cards } = inboundParts(c, 'stream');
  return new StreamTransport(
    { clientId: d.clientId, clientSecret: d.clientSecret, apiBase: d.apiBase, oapiBase: d.oapiBase },
    intake,
    cards,
    c.resolve<Logger>(LoggerToken).child({ component: 'stream' }),
  );
}

/**
 * The HTTP callback transport. Call it while composing (`BotOptions.compose`): its routes
 * must exist before the HTTP server starts.
 */
export function httpTransport(c: DependencyContainer): HttpCallbackTransport {
  const config = c.resolve<CoreConfig>(CoreConfigToken);
  const d = config.dingtalk;
  const log = c.resolve<Logger>(LoggerToken).child({ component: 'http-callbacks' });
  const { intake, cards } = inboundParts(c, 'http');
  const crypto = d.aesKey && d.token ? new CallbackCrypto(d.token, d.aesKey, d.ownerKey) : undefined;
  if (!crypto)
    log.warn(
      'dingtalk.aesKey and dingtalk.token are not set: event subscription pushes (group installs, renames) will be refused',
    );
  const publicUrl = config.server.publicUrl!;
  const api = c.resolve<OpenApiClient>(OpenApiToken);
  const apiSecret = cardApiSecret(d.clientSecret);
  return new HttpCallbackTransport(
    {
      paths: d.callbacks,
      urls: {
        robot: callbackUrl(publicUrl, d.callbacks.robot),
        events: callbackUrl(publicUrl, d.callbacks.events),
      },
      clientSecret: d.clientSecret,
      crypto,
      cardApiSecret: apiSecret,
      replay: c.resolve<ReplayGuard>(ReplayGuardToken),
      registerCardCallbacks: async () => {
        await api.registerCardCallback({
          callbackRouteKey: cardRouteKey(d.clientId),
          callbackUrl: callbackUrl(publicUrl, d.callbacks.cards),
          apiSecret,
        });
      },
    },
    c.resolve<HttpServer>(HttpToken),
    intake,
    cards,
    log,
  );
}

/** The key cards name to reach our HTTP card callback URL (one per app). */
export function cardRouteKey(clientId: string): string {
  return `dingops-${clientId}`.slice(0, 64);
}

/**
 * The secret DingTalk signs card callbacks with. Derived from the app secret so every
 * replica computes the same one without storing it; the app secret itself is never sent.
 */
function cardApiSecret(clientSecret: string): string {
  return createHmac('sha256', clientSecret).update('dingops card callbacks').digest('base64url').slice(0, 32);
}
