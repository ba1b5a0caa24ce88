import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DependencyContainer } from 'tsyringe';
import type { AccessControl } from '../access/access-control.js';
import type { CardRenderer } from '../cards/card-renderer.js';
import type { CoreConfig } from '../config/core-schema.js';
import { callbackUrl } from '../config/public-url.js';
import type { GroupRegistry } from '../groups/group-registry.js';
import type { HttpServer } from '../http/http-server.js';
import type { Metrics } from '../http/metrics.js';
import type { I18n } from '../i18n/i18n.js';
import type { Conversation } from '../messages/inbound.js';
import type { StatusBoard } from '../runtime/status.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Database } from '../storage/database.js';
import { SqlKeyValueStore } from '../storage/kv-store.js';
import type { ReplayGuard } from '../storage/replay-guard.js';
import { TOKENS } from '../tokens.js';
import type { Transport } from '../transport/transport.js';
import { ApiBudget } from './api-budget.js';
import { CallbackCrypto } from './callback-crypto.js';
import { CardCallbacks } from './card-callbacks.js';
import { DingTalkMessenger } from './dingtalk-messenger.js';
import { HttpCallbackTransport } from './http-callback-transport.js';
import { InboundIntake } from './inbound-intake.js';
import { Inbox } from './inbox.js';
import { OpenApiClient } from './openapi-client.js';
import { Outbox, type OutboxOptions } from './outbox.js';
import { StreamTransport } from './stream-transport.js';

/**
 * Registers the DingTalk delivery stack in the bot's container (OpenAPI client, outbox,
 * messenger, API budget) for `BotOptions.compose`.
 */
export function composeDingTalk(c: DependencyContainer, options: { outbox?: OutboxOptions } = {}): void {
  const config = c.resolve<CoreConfig>(TOKENS.CoreConfig);
  const log = c.resolve<Logger>(TOKENS.Logger).child({ component: 'dingtalk' });
  const metrics = c.resolve<Metrics>(TOKENS.Metrics);
  const store = c.resolve<Database>(TOKENS.Database);
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
  const renderer = c.resolve<CardRenderer>(TOKENS.Renderer);
  let messenger: DingTalkMessenger | undefined;
  const outbox = new Outbox(store, (row) => messenger!.deliver(row), log, metrics, options.outbox);
  messenger = new DingTalkMessenger(outbox, api, renderer, store, log, config.locale, budget);
  const i18n = c.resolve<I18n>(TOKENS.I18n);
  budget.onWarning = (threshold, s) => {
    const access = c.resolve<AccessControl>(TOKENS.Access);
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
  c.registerInstance(TOKENS.Inbox, inbox);
  // Delivered messages and handled inbound ids are kept a while (for inspection and
  // de-duplication), then removed so the tables stay small.
  c.resolve<Scheduler>(TOKENS.Scheduler).schedule('core', 'dingtalk-prune', '17 * * * *', async () => {
    const removed = await outbox.prune();
    await inbox.prune();
    log.debug({ removed }, 'pruned delivered outbox rows');
  });
  c.registerInstance(TOKENS.OpenApi, api);
  // A group the app is installed in: its title comes from DingTalk (the event has none).
  c.resolve<GroupRegistry>(TOKENS.Groups).titleLookup = async (id) =>
    (await api.groupBaseInfo(id)).result.title;
  c.registerInstance(TOKENS.Outbox, outbox);
  c.registerInstance(TOKENS.ApiBudget, budget);
  c.registerInstance(TOKENS.Messenger, m);
  const status = c.resolve<StatusBoard>(TOKENS.Status);
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
  const config = c.resolve<CoreConfig>(TOKENS.CoreConfig);
  const db = c.resolve<Database>(TOKENS.Database).db as Kysely<any>;
  const log = c.resolve<Logger>(TOKENS.Logger).child({ component: via });
  const inbox = c.resolve<Inbox>(TOKENS.Inbox);
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
      c.resolve(TOKENS.Messenger),
      c.resolve(TOKENS.Renderer),
      cardConversation,
      log,
    ),
  };
}

/** The Stream mode transport, built from the container composed by `composeDingTalk`. */
export function streamTransport(c: DependencyContainer): Transport {
  const d = c.resolve<CoreConfig>(TOKENS.CoreConfig).dingtalk;
  const { intake, cards } = inboundParts(c, 'stream');
  return new StreamTransport(
    { clientId: d.clientId, clientSecret: d.clientSecret, apiBase: d.apiBase, oapiBase: d.oapiBase },
    intake,
    cards,
    c.resolve<Logger>(TOKENS.Logger).child({ component: 'stream' }),
  );
}

/**
 * The HTTP callback transport. Call it while composing (`BotOptions.compose`): its routes
 * must exist before the HTTP server starts.
 */
export function httpTransport(c: DependencyContainer): HttpCallbackTransport {
  const config = c.resolve<CoreConfig>(TOKENS.CoreConfig);
  const d = config.dingtalk;
  const log = c.resolve<Logger>(TOKENS.Logger).child({ component: 'http-callbacks' });
  const { intake, cards } = inboundParts(c, 'http');
  const crypto = d.aesKey && d.token ? new CallbackCrypto(d.token, d.aesKey, d.ownerKey) : undefined;
  if (!crypto)
    log.warn(
      'dingtalk.aesKey and dingtalk.token are not set: event subscription pushes (group installs, renames) will be refused',
    );
  const publicUrl = config.server.publicUrl!;
  const api = c.resolve<OpenApiClient>(TOKENS.OpenApi);
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
      replay: c.resolve<ReplayGuard>(TOKENS.ReplayGuard),
      registerCardCallbacks: async () => {
        await api.registerCardCallback({
          callbackRouteKey: cardRouteKey(d.clientId),
          callbackUrl: callbackUrl(publicUrl, d.callbacks.cards),
          apiSecret,
        });
      },
    },
    c.resolve<HttpServer>(TOKENS.Http),
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
