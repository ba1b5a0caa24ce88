import type pino from 'pino';
import { type DependencyContainer, container as rootContainer } from 'tsyringe';
import { CardRenderer, RendererToken } from '../cards/card-renderer.js';
import { ReplicaRegistry, ReplicasToken } from '../cluster/replica-registry.js';
import { SqlRunCoordinator } from '../cluster/run-coordinator.js';
import { CoreConfigToken } from '../config/core-schema.js';
import { ConfigToken, type LoadedConfig } from '../config/load-config.js';
import { packageInfo } from '../config/version.js';
import { AccessControl, AccessToken } from '../decide/access-control.js';
import { ActionPipeline, ActionPipelineToken } from '../decide/actions/action-pipeline.js';
import { ActionRegistry, ActionsToken } from '../decide/actions/action-registry.js';
import { AuditLog, AuditToken } from '../decide/audit-log.js';
import { CommandPipeline, PipelineToken } from '../decide/commands/command-pipeline.js';
import { FallbackHandlers, FallbacksToken } from '../decide/commands/fallbacks.js';
import { HelpBuilder, HelpToken } from '../decide/commands/help.js';
import { CommandRegistry, CommandsToken } from '../decide/commands/registry.js';
import { LocalMessenger } from '../deliver/local-messenger.js';
import { type Messenger, MessengerToken } from '../deliver/messenger.js';
import { OpenApiToken } from '../deliver/openapi/openapi-client.js';
import { Diagnostics, DiagnosticsToken } from '../diagnostics/diagnostics.js';
import { GroupRegistry, GroupsToken } from '../directory/group-registry.js';
import { PeopleDirectory, PeopleToken } from '../directory/people-directory.js';
import { EventBus, EventsToken } from '../events/event-bus.js';
import { en } from '../i18n/catalog/en.js';
import { zhCN } from '../i18n/catalog/zh-CN.js';
import { I18n, I18nToken } from '../i18n/i18n.js';
import { createLogger, LoggerToken } from '../observe/logger.js';
import { Metrics, MetricsToken } from '../observe/metrics.js';
import { StatusBoard, StatusToken } from '../observe/status.js';
import { HttpServer, HttpToken } from '../receive/http/http-server.js';
import { Inbox, InboxToken } from '../receive/inbox.js';
import { InboundSinkToken } from '../receive/transport.js';
import { Scheduler, SchedulerToken } from '../scheduler/scheduler.js';
import { coreMigrations } from '../storage/core-migrations.js';
import { type Database, DatabaseToken, openDatabase } from '../storage/database.js';
import { SqlKeyValueStore } from '../storage/kv-store.js';
import { migrateToLatest } from '../storage/migrations.js';
import { ReplayGuard, ReplayGuardToken } from '../storage/replay-guard.js';
import { ClockToken } from '../util/clock.js';
import { RedactorToken, SecretRedactor } from '../util/redact.js';
import { InboundRouter } from './inbound-router.js';

export interface CoreOptions {
  config: LoadedConfig;
  logDestination?: pino.DestinationStream;
  clock?: () => number;
  /** Register Node's default process metrics (default true; off in benchmarks with many bots). */
  defaultMetrics?: boolean;
  /** Called after the foundations, before the pipelines: register the sending side (`composeDingTalk`). */
  compose?: (c: DependencyContainer) => void | Promise<void>;
  /** Builds the outbound delivery when `compose` registered none; defaults to the in-memory LocalMessenger. */
  messenger?: (c: DependencyContainer) => Messenger;
}

/**
 * Builds the core's services in a child container, each from what is already built, in the
 * order a message needs them: foundations (config, log, metrics, store), then the sending
 * side (`compose`), then deciding (registries, pipelines), then the inbound router that
 * receivers hand messages to. Nothing is bound later.
 */
export async function composeCore(options: CoreOptions): Promise<{ c: DependencyContainer; db: Database }> {
  const { config } = options;
  const c = rootContainer.createChildContainer();
  const redactor = new SecretRedactor();
  redactor.add(...config.secrets);
  const log = createLogger({
    level: config.core.log.level,
    pretty: config.core.log.pretty,
    redactor,
    destination: options.logDestination,
  });
  const clock = options.clock ?? Date.now;
  const i18n = new I18n(config.core.locale);
  i18n.add({ en, 'zh-CN': zhCN });
  const metrics = new Metrics({ defaultMetrics: options.defaultMetrics });
  const status = new StatusBoard((v, l) => i18n.text(v, l));
  const db = await openStore(config, (message, err) => log.warn({ err }, message));
  const replicas = new ReplicaRegistry(db, log.child({ component: 'replicas' }), {
    version: packageInfo().version,
    clock,
  });
  try {
    await replicas.join();
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }

  c.registerInstance(ConfigToken, config);
  c.registerInstance(CoreConfigToken, config.core);
  c.registerInstance(LoggerToken, log);
  c.registerInstance(RedactorToken, redactor);
  c.registerInstance(I18nToken, i18n);
  c.registerInstance(ClockToken, clock);
  c.registerInstance(MetricsToken, metrics);
  c.registerInstance(StatusToken, status);
  c.registerInstance(DatabaseToken, db);
  c.registerInstance(ReplicasToken, replicas);
  c.registerInstance(ReplayGuardToken, new ReplayGuard(db, clock));
  c.registerInstance(InboxToken, new Inbox(db, Date.now, { id: replicas.id, staleMs: replicas.staleMs }));
  c.registerInstance(AuditToken, new AuditLog(db.db, log, { redactor }));
  const access = new AccessControl(config.core.access);
  c.registerInstance(AccessToken, access);
  const commands = new CommandRegistry();
  c.registerInstance(CommandsToken, commands);
  c.registerInstance(ActionsToken, new ActionRegistry());
  c.registerInstance(HelpToken, new HelpBuilder(commands, access, i18n));
  c.registerInstance(
    RendererToken,
    new CardRenderer(i18n, { cardTemplateId: config.core.dingtalk.cardTemplateId }),
  );
  const events = new EventBus(log);
  c.registerInstance(EventsToken, events);
  const groups = new GroupRegistry(db, events, log.child({ component: 'groups' }), clock);
  await groups.load();
  c.registerInstance(GroupsToken, groups);
  c.registerInstance(
    SchedulerToken,
    new Scheduler(log, config.core.timezone, new SqlRunCoordinator(db.db, replicas.id, clock)),
  );
  c.registerInstance(HttpToken, new HttpServer(config.core.server, log, metrics, status));
  c.registerInstance(DiagnosticsToken, new Diagnostics(i18n, config.core.locale, clock));

  await options.compose?.(c);
  if (!c.isRegistered(MessengerToken))
    c.registerInstance(
      MessengerToken,
      options.messenger ? options.messenger(c) : new LocalMessenger(c.resolve(RendererToken)),
    );
  c.registerInstance(
    PeopleToken,
    new PeopleDirectory(config.core.people, new SqlKeyValueStore(db.db, 'core', clock, db.write), () =>
      c.isRegistered(OpenApiToken) ? c.resolve(OpenApiToken) : undefined,
    ),
  );
  c.registerInstance(FallbacksToken, new FallbackHandlers());
  c.registerSingleton(PipelineToken, CommandPipeline);
  c.registerSingleton(ActionPipelineToken, ActionPipeline);
  c.registerInstance(
    InboundSinkToken,
    new InboundRouter(metrics, events, c.resolve(PipelineToken), c.resolve(ActionPipelineToken), groups),
  );
  return { c, db };
}

async function openStore(
  config: LoadedConfig,
  warn: (message: string, err: unknown) => void,
): Promise<Database> {
  try {
    const db = await openDatabase(config.core.storage.url, { baseDir: config.baseDir, warn });
    await migrateToLatest(db.db, 'core', coreMigrations, (names) =>
      warn(
        `the store was migrated by a newer version (${names.join(', ')}): running as the previous version, as during a rolling upgrade`,
        undefined,
      ),
    );
    return db;
  } catch (err) {
    throw new Error(
      `cannot open storage ${config.core.storage.url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@')}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
