import type { DependencyContainer } from 'tsyringe';
import { RendererToken } from '../cards/card-renderer.js';
import { ReplicasToken } from '../cluster/replica-registry.js';
import { SharedRateLimiter } from '../cluster/shared-rate-limiter.js';
import { CoreConfigToken } from '../config/core-schema.js';
import { AccessToken } from '../decide/access-control.js';
import { DingTalkDelivery } from '../deliver/dingtalk-delivery.js';
import { DingTalkMessenger } from '../deliver/dingtalk-messenger.js';
import { MessengerToken } from '../deliver/messenger.js';
import { ApiBudget, ApiBudgetToken } from '../deliver/openapi/api-budget.js';
import { OpenApiClient, OpenApiToken } from '../deliver/openapi/openapi-client.js';
import { Outbox, type OutboxOptions, OutboxToken } from '../deliver/outbox.js';
import { LocalLanes, SqlLanes } from '../deliver/outbox-lanes.js';
import { GroupsToken } from '../directory/group-registry.js';
import { EventsToken } from '../events/event-bus.js';
import { I18nToken } from '../i18n/i18n.js';
import { LoggerToken } from '../observe/logger.js';
import { MetricsToken } from '../observe/metrics.js';
import { StatusToken } from '../observe/status.js';
import { InboxToken } from '../receive/inbox.js';
import { SchedulerToken } from '../scheduler/scheduler.js';
import { CardInstances, CardInstancesToken } from '../storage/card-instances.js';
import { DatabaseToken } from '../storage/database.js';
import { SqlKeyValueStore } from '../storage/kv-store.js';
import { cardRouteKey } from './card-route.js';

/**
 * Registers the DingTalk sending side in the bot's container, in the order a reply travels
 * backwards: the OpenAPI client and its budget, the delivery that calls it, the outbox that
 * feeds the delivery, the messenger that fills the outbox. Used as `BotOptions.compose`.
 */
export function composeDingTalk(c: DependencyContainer, options: { outbox?: OutboxOptions } = {}): void {
  const config = c.resolve(CoreConfigToken);
  const log = c.resolve(LoggerToken).child({ component: 'dingtalk' });
  const metrics = c.resolve(MetricsToken);
  const store = c.resolve(DatabaseToken);
  const renderer = c.resolve(RendererToken);
  const d = config.dingtalk;
  // Replicas on PostgreSQL keep the app's QPS together; a SQLite store has one process.
  const sharedRate = store.dialect === 'postgres' ? new SharedRateLimiter(store.db, d.limits.qps) : undefined;
  const api = new OpenApiClient(
    {
      clientId: d.clientId,
      clientSecret: d.clientSecret,
      robotCode: d.robotCode,
      apiBase: d.apiBase,
      oapiBase: d.oapiBase,
      qps: d.limits.qps,
      sharedRate: sharedRate ? (api: string) => sharedRate.acquire(api) : undefined,
      cardCallbackRouteKey: d.mode === 'http' ? cardRouteKey(d.clientId) : undefined,
    },
    log,
    metrics,
  );
  const budget = new ApiBudget(
    store.db,
    new SqlKeyValueStore(store.db, 'core'),
    d.limits.monthlyCalls,
    log,
    metrics.registry,
  );
  api.onMeteredCall = () => budget.count();
  api.onQuotaExhausted = () => budget.exhausted();
  const cards = new CardInstances(store);
  const delivery = new DingTalkDelivery(api, cards, renderer, log, config.locale);
  // Replicas on PostgreSQL share the outbox: one delivers a conversation at a time (its lane).
  const lanes =
    store.dialect === 'postgres'
      ? new SqlLanes(store.db, c.resolve(ReplicasToken).id, options.outbox?.leaseMs ?? 10_000)
      : new LocalLanes();
  const outbox = new Outbox(store, (row) => delivery.deliver(row), log, metrics, options.outbox, lanes);
  const messenger = new DingTalkMessenger(outbox, cards, renderer, config.locale, budget);
  const i18n = c.resolve(I18nToken);
  budget.onWarning = (threshold, s) => {
    const text = i18n.t(threshold >= 1 ? 'dingtalk.quotaExhausted' : 'dingtalk.budgetWarning', {
      percent: Math.round(threshold * 100),
      used: s.used,
      limit: s.limit,
      projected: s.projected,
    });
    for (const admin of c.resolve(AccessToken).adminIds)
      void messenger.send({ kind: 'user', userId: admin }, text).catch(() => undefined);
  };
  c.registerInstance(OpenApiToken, api);
  c.registerInstance(ApiBudgetToken, budget);
  c.registerInstance(CardInstancesToken, cards);
  c.registerInstance(OutboxToken, outbox);
  c.registerInstance(MessengerToken, messenger);
  // Delivered messages and handled inbound ids are kept a while (for inspection and
  // de-duplication), then removed so the tables stay small.
  c.resolve(SchedulerToken).every('core', 'dingtalk-prune', 3_600_000, async () => {
    const removed = await outbox.prune();
    await c.resolve(InboxToken).prune();
    log.debug({ removed }, 'pruned delivered outbox rows');
  });
  // A group the app is installed in: its title comes from DingTalk (the event has none).
  const groups = c.resolve(GroupsToken);
  groups.titleLookup = async (id) => (await api.groupBaseInfo(id)).result.title;
  // A group taking a bound title is told to the admins once (across restarts and replicas).
  const told = new SqlKeyValueStore(store.db, 'core');
  c.resolve(EventsToken).on('group.titleTaken', async ({ title, openConversationId, boundTo }) => {
    const key = `title-taken:${title}:${openConversationId}`;
    if (await told.get<boolean>(key)) return;
    await told.set(key, true);
    const text = i18n.t('builtin.groups.titleTaken', { title, id: openConversationId, boundTo });
    for (const admin of c.resolve(AccessToken).adminIds)
      void messenger.send({ kind: 'user', userId: admin }, text).catch(() => undefined);
  });
  // Bindings other replicas make (a shared PostgreSQL store) reach this one within seconds.
  if (store.dialect === 'postgres')
    c.resolve(SchedulerToken).every(
      'core',
      'group-bindings',
      10_000,
      () => groups.bindings.refresh(),
      10_000,
    );
  const status = c.resolve(StatusToken);
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
