import 'reflect-metadata';
import type pino from 'pino';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import { type DependencyContainer, container as rootContainer } from 'tsyringe';
import { corePlugin } from '../builtins/core-plugin.js';
import { registerBuiltins } from '../builtins/register-builtins.js';
import { CardRenderer, RendererToken } from '../cards/card-renderer.js';
import { CoreConfigToken } from '../config/core-schema.js';
import type { LoadedConfig } from '../config/load-config.js';
import { ConfigToken } from '../config/load-config.js';
import { AccessControl, AccessToken } from '../decide/access-control.js';
import { ActionPipeline, ActionPipelineToken } from '../decide/actions/action-pipeline.js';
import { ActionRegistry, ActionsToken } from '../decide/actions/action-registry.js';
import { AuditLog, AuditToken } from '../decide/audit-log.js';
import { CommandPipeline, PipelineToken } from '../decide/commands/command-pipeline.js';
import { FallbackHandlers, FallbacksToken } from '../decide/commands/fallbacks.js';
import { HelpBuilder, HelpToken } from '../decide/commands/help.js';
import { CommandRegistry, CommandsToken } from '../decide/commands/registry.js';
import { LocalMessenger } from '../deliver/local-messenger.js';
import type { Messenger } from '../deliver/messenger.js';
import { MessengerToken } from '../deliver/messenger.js';
import type { OpenApiClient } from '../deliver/openapi/openapi-client.js';
import { OpenApiToken } from '../deliver/openapi/openapi-client.js';
import { Diagnostics, DiagnosticsToken } from '../diagnostics/diagnostics.js';
import { registerCoreDiagnostics } from '../diagnostics/register-core-checks.js';
import { GroupRegistry, GroupsToken } from '../directory/group-registry.js';
import { PeopleDirectory, PeopleToken } from '../directory/people-directory.js';
import { EventBus, EventsToken } from '../events/event-bus.js';
import { en } from '../i18n/catalog/en.js';
import { zhCN } from '../i18n/catalog/zh-CN.js';
import { I18n, I18nToken } from '../i18n/i18n.js';
import type { CardAction, DingTalkEvent, InboundMessage } from '../messages/inbound.js';
import type { ActionResult } from '../messages/outbound.js';
import { createLogger, LoggerToken } from '../observe/logger.js';
import { Metrics, MetricsToken } from '../observe/metrics.js';
import { StatusBoard, StatusToken } from '../observe/status.js';
import type { PluginDefinition } from '../plugins/define-plugin.js';
import { PluginHost, preparePlugins } from '../plugins/plugin-host.js';
import { HttpServer, HttpToken } from '../receive/http/http-server.js';
import { type InboundSink, isReceiving, type Transport } from '../receive/transport.js';
import { Scheduler, SchedulerToken } from '../scheduler/scheduler.js';
import { coreMigrations } from '../storage/core-migrations.js';
import { type Database, DatabaseToken, openDatabase } from '../storage/database.js';
import { SqlKeyValueStore } from '../storage/kv-store.js';
import { migrateToLatest } from '../storage/migrations.js';
import { ReplayGuard, ReplayGuardToken } from '../storage/replay-guard.js';
import { ClockToken } from '../util/clock.js';
import { RedactorToken, SecretRedactor } from '../util/redact.js';
import { packageInfo } from './version.js';

/** How long audit entries are kept. */
export const AUDIT_RETENTION_MS = 180 * 86_400_000;

export interface BotOptions {
  config: LoadedConfig;
  /** Builds the outbound delivery; defaults to the in-memory LocalMessenger. */
  messenger?: (c: DependencyContainer) => Messenger;
  transports?: Transport[] | ((c: DependencyContainer) => Transport[]);
  /** Plugins passed as objects (tests, embedding), in addition to those in config. */
  plugins?: PluginDefinition<any>[];
  logDestination?: pino.DestinationStream;
  clock?: () => number;
  /** Open the HTTP port (default true). */
  listen?: boolean;
  /** Register Node's default process metrics (default true; off in benchmarks with many bots). */
  defaultMetrics?: boolean;
  /**
   * Set plugins up (default true). `dingops doctor` without a running bot validates the
   * plugins' config and reads what they declare, but starts nothing of theirs.
   */
  setupPlugins?: boolean;
  /** Called during composition, before plugins start: register extra services (transports use it). */
  compose?: (c: DependencyContainer) => void | Promise<void>;
}

/**
 * One running bot: the composition root. Builds the core services in a child container,
 * opens and migrates the store, registers built-ins, sets up plugins, then starts the
 * HTTP server and transports. `stop()` drains in-flight work within a deadline.
 */
export class Bot implements InboundSink {
  /** Handlers still running; `stop()` waits for them (a counter: cheaper than a Set per message). */
  private inflight = 0;
  private drainWaiters: Array<() => void> = [];
  // Resolved once: the hot path must not go through the container per message.
  private readonly metrics: Metrics;
  private readonly events: EventBus;
  private readonly pipeline: CommandPipeline;
  private readonly actionPipeline: ActionPipeline;
  private readonly groups: GroupRegistry;
  private transports: Transport[] = [];
  private stopping: Promise<void> | undefined;
  private accepting = true;

  private constructor(
    readonly container: DependencyContainer,
    readonly plugins: PluginHost,
    private readonly options: BotOptions,
  ) {
    this.metrics = container.resolve(MetricsToken);
    this.events = container.resolve(EventsToken);
    this.pipeline = container.resolve(PipelineToken);
    this.actionPipeline = container.resolve(ActionPipelineToken);
    this.groups = container.resolve(GroupsToken);
  }

  static async create(options: BotOptions): Promise<Bot> {
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

    let db: Database;
    try {
      db = await openDatabase(config.core.storage.url, {
        baseDir: config.baseDir,
        warn: (message, err) => log.warn({ err }, message),
      });
      await migrateToLatest(db.db, 'core', coreMigrations);
    } catch (err) {
      throw new Error(
        `cannot open storage ${config.core.storage.url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@')}: ${err instanceof Error ? err.message : String(err)}`,
      );
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
    c.registerInstance(ReplayGuardToken, new ReplayGuard(db, clock));
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
    c.registerInstance(SchedulerToken, new Scheduler(log, config.core.timezone));
    c.registerInstance(HttpToken, new HttpServer(config.core.server, log, metrics, status));
    const diagnostics = new Diagnostics(i18n, config.core.locale, clock);
    c.registerInstance(DiagnosticsToken, diagnostics);
    await options.compose?.(c);
    if (!c.isRegistered(MessengerToken)) {
      c.registerInstance(
        MessengerToken,
        options.messenger ? options.messenger(c) : new LocalMessenger(c.resolve(RendererToken)),
      );
    }
    c.registerInstance(
      PeopleToken,
      new PeopleDirectory(config.core.people, new SqlKeyValueStore(db.db, 'core', clock, db.write), () =>
        c.isRegistered(OpenApiToken) ? c.resolve<OpenApiClient>(OpenApiToken) : undefined,
      ),
    );
    c.registerInstance(FallbacksToken, new FallbackHandlers());
    c.registerSingleton(PipelineToken, CommandPipeline);
    c.registerSingleton(ActionPipelineToken, ActionPipeline);

    status.register('core', 'store', async () => {
      const started = performance.now();
      await db.db.selectFrom('plugin_kv').select('plugin').limit(1).execute();
      return {
        name: { key: 'status.store' },
        ok: true,
        detail: {
          key: 'status.storeDetail',
          vars: { dialect: db.dialect, ms: Math.round(performance.now() - started) },
        },
        critical: true,
      };
    });

    const { version } = packageInfo();
    registerBuiltins(c);
    // Audit retention: segments older than 180 days are removed nightly.
    c.resolve<Scheduler>(SchedulerToken).schedule('core', 'audit-retention', '23 3 * * *', () =>
      c.resolve<AuditLog>(AuditToken).prune(clock() - AUDIT_RETENTION_MS),
    );
    const host = new PluginHost(c, log);
    const bot = new Bot(c, host, options);
    registerCoreDiagnostics(c, diagnostics, {
      transports: () => bot.transports.map((t) => ({ name: t.name, state: t.state() })),
      plugins: () => host.permissions(),
    });
    status.register('core', 'plugins', () => {
      const records = [...host.records.values()];
      const failed = records.filter((r) => r.state === 'failed');
      return {
        name: { key: 'status.plugins' },
        ok: failed.length === 0,
        detail: records.length
          ? {
              key: 'status.pluginList',
              vars: {
                list: records
                  .map((r) =>
                    r.state === 'failed'
                      ? i18n.t('status.pluginFailed', { name: r.name, error: r.error })
                      : r.name,
                  )
                  .join(', '),
              },
            }
          : { key: 'status.none' },
      };
    });
    try {
      // The built-in commands first, as a plugin like the others (config: `plugins.core`).
      const prepared = await preparePlugins(config, [corePlugin(c, version), ...(options.plugins ?? [])]);
      if (options.setupPlugins === false) host.declared = prepared.map((p) => p.def);
      else await host.start(prepared);
    } catch (err) {
      await host.stopAll().catch(() => undefined);
      await db.close().catch(() => undefined);
      throw err;
    }
    return bot;
  }

  get log(): Logger {
    return this.container.resolve(LoggerToken);
  }

  get http(): HttpServer {
    return this.container.resolve(HttpToken);
  }

  /** Runs a schedule now, as if it were due (`<plugin>:<name>`): for tests. */
  runSchedule(id: string): Promise<void> {
    return this.container.resolve<Scheduler>(SchedulerToken).runNow(id);
  }

  resolve<T>(token: symbol): T {
    return this.container.resolve<T>(token as never);
  }

  async start(): Promise<void> {
    const c = this.container;
    c.resolve<AuditLog>(AuditToken).start();
    if (this.options.listen !== false) await this.http.listen();
    await c.resolve<Messenger>(MessengerToken).start?.();
    const t = this.options.transports;
    this.transports = typeof t === 'function' ? t(c) : (t ?? []);
    const status = c.resolve<StatusBoard>(StatusToken);
    const transports = this.transports;
    new Gauge({
      name: 'dingops_transport_connected',
      help: 'Whether a transport is connected (1) or not (0)',
      labelNames: ['transport'],
      registers: [c.resolve<Metrics>(MetricsToken).registry],
      collect() {
        for (const t of transports) this.set({ transport: t.name }, isReceiving(t.state()) ? 1 : 0);
      },
    });
    for (const transport of this.transports) {
      status.register('core', `transport:${transport.name}`, () => {
        const s = transport.state();
        const state = { key: `status.transportState.${s.status}` };
        return {
          name: { key: 'status.transport', vars: { name: transport.name } },
          ok: isReceiving(s),
          detail: {
            key: s.lastFrameAt ? 'status.transportDetailFrame' : 'status.transportDetail',
            vars: {
              state,
              at: s.lastFrameAt ? new Date(s.lastFrameAt).toISOString() : '',
              detail: s.detail ? `, ${s.detail}` : '',
            },
          },
          critical: true,
        };
      });
      await transport.start(this);
    }
    await c.resolve<EventBus>(EventsToken).emit('lifecycle.ready', { startedAt: Date.now() });
    this.log.info(
      { plugins: [...this.plugins.records.keys()], transports: this.transports.map((x) => x.name) },
      'dingops ready',
    );
  }

  // --- InboundSink: what transports call. Work is tracked so stop() can drain it.

  message(message: InboundMessage): Promise<void> {
    if (!this.accepting) return Promise.reject(new Error('bot is stopping'));
    this.metrics.inbound.inc(message.via, 'message');
    if (message.conversation.type === 'group')
      this.groups.seen(message.conversation.id, message.conversation.title);
    const work = this.events.listenerCount('message.received')
      ? this.events.emit('message.received', message).then(() => this.pipeline.handle(message))
      : this.pipeline.handle(message);
    return this.track(work);
  }

  action(action: CardAction): Promise<ActionResult> {
    if (!this.accepting) return Promise.reject(new Error('bot is stopping'));
    this.metrics.inbound.inc(action.via, 'action');
    return this.track(this.actionPipeline.handle(action));
  }

  event(event: DingTalkEvent): Promise<void> {
    if (!this.accepting) return Promise.reject(new Error('bot is stopping'));
    this.metrics.inbound.inc(event.via, 'event');
    return this.track(this.events.emit('dingtalk.event', event));
  }

  private readonly settled = () => {
    if (--this.inflight === 0 && this.drainWaiters.length) {
      for (const w of this.drainWaiters.splice(0)) w();
    }
  };

  private track<T>(work: Promise<T>): Promise<T> {
    this.inflight++;
    work.then(this.settled, this.settled);
    return work;
  }

  get inflightCount(): number {
    return this.inflight;
  }

  /**
   * Graceful stop: stop accepting, let in-flight handlers finish (up to `deadlineMs`),
   * stop plugins, flush the audit log, close the HTTP server and the store.
   */
  stop(reason = 'stop', deadlineMs = 10_000): Promise<void> {
    this.stopping ??= this.doStop(reason, deadlineMs);
    return this.stopping;
  }

  private async doStop(reason: string, deadlineMs: number): Promise<void> {
    const c = this.container;
    const log = this.log;
    log.info({ reason, inflight: this.inflight }, 'stopping');
    await c.resolve<EventBus>(EventsToken).emit('lifecycle.stopping', { reason });
    for (const t of this.transports)
      await t.stop().catch((err) => log.error({ err, transport: t.name }, 'transport stop failed'));
    this.accepting = false;
    if (this.inflight > 0) {
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), deadlineMs).unref());
      const drained = new Promise<'drained'>((r) => this.drainWaiters.push(() => r('drained')));
      const result = await Promise.race([drained, timeout]);
      if (result === 'timeout')
        log.warn({ inflight: this.inflight }, 'stop deadline reached with work still running');
    }
    await this.plugins.stopAll();
    c.resolve<Scheduler>(SchedulerToken).stopAll();
    const messenger = c.resolve<Messenger & { close?: () => Promise<void> }>(MessengerToken);
    await messenger.close?.();
    await c.resolve<AuditLog>(AuditToken).stop();
    await this.http.close().catch(() => undefined);
    await c.resolve<Database>(DatabaseToken).close();
    log.info('stopped');
    log.flush?.();
  }
}
