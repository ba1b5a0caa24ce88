import 'reflect-metadata';
import type pino from 'pino';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import { type DependencyContainer, container as rootContainer } from 'tsyringe';
import { AccessControl } from '../access/access-control.js';
import { ActionPipeline } from '../actions/action-pipeline.js';
import { ActionRegistry, type ActionResult } from '../actions/action-registry.js';
import { AuditLog } from '../audit/audit-log.js';
import { corePlugin } from '../builtins/core-plugin.js';
import { registerBuiltins } from '../builtins/register-builtins.js';
import { CardRenderer } from '../cards/card-renderer.js';
import { CommandPipeline } from '../commands/command-pipeline.js';
import { FallbackHandlers } from '../commands/fallbacks.js';
import { HelpBuilder } from '../commands/help.js';
import { CommandRegistry } from '../commands/registry.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Diagnostics } from '../diagnostics/diagnostics.js';
import { registerCoreDiagnostics } from '../diagnostics/register-core-checks.js';
import type { OpenApiClient } from '../dingtalk/openapi-client.js';
import { type DingTalkEvent, EventBus } from '../events/event-bus.js';
import { GroupRegistry } from '../groups/group-registry.js';
import { HttpServer } from '../http/http-server.js';
import { Metrics } from '../http/metrics.js';
import { en } from '../i18n/catalog/en.js';
import { zhCN } from '../i18n/catalog/zh-CN.js';
import { I18n } from '../i18n/i18n.js';
import { createLogger } from '../log/logger.js';
import type { CardAction, InboundMessage } from '../messages/inbound.js';
import { LocalMessenger } from '../messages/local-messenger.js';
import type { Messenger } from '../messages/outbound.js';
import { PeopleDirectory } from '../people/people-directory.js';
import type { PluginDefinition } from '../plugins/define-plugin.js';
import { PluginHost, preparePlugins } from '../plugins/plugin-host.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { coreMigrations } from '../storage/core-migrations.js';
import { type Database, openDatabase } from '../storage/database.js';
import { SqlKeyValueStore } from '../storage/kv-store.js';
import { migrateToLatest } from '../storage/migrations.js';
import { ReplayGuard } from '../storage/replay-guard.js';
import { TOKENS } from '../tokens.js';
import { type InboundSink, isReceiving, type Transport } from '../transport/transport.js';
import { SecretRedactor } from '../util/redact.js';
import { StatusBoard } from './status.js';
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
    this.metrics = container.resolve(TOKENS.Metrics);
    this.events = container.resolve(TOKENS.Events);
    this.pipeline = container.resolve(TOKENS.Pipeline);
    this.actionPipeline = container.resolve(TOKENS.ActionPipeline);
    this.groups = container.resolve(TOKENS.Groups);
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

    c.registerInstance(TOKENS.Config, config);
    c.registerInstance(TOKENS.CoreConfig, config.core);
    c.registerInstance(TOKENS.Logger, log);
    c.registerInstance(TOKENS.Redactor, redactor);
    c.registerInstance(TOKENS.I18n, i18n);
    c.registerInstance(TOKENS.Clock, clock);
    c.registerInstance(TOKENS.Metrics, metrics);
    c.registerInstance(TOKENS.Status, status);
    c.registerInstance(TOKENS.Database, db);
    c.registerInstance(TOKENS.ReplayGuard, new ReplayGuard(db, clock));
    c.registerInstance(TOKENS.Audit, new AuditLog(db.db, log, { redactor }));
    const access = new AccessControl(config.core.access);
    c.registerInstance(TOKENS.Access, access);
    const commands = new CommandRegistry();
    c.registerInstance(TOKENS.Commands, commands);
    c.registerInstance(TOKENS.Actions, new ActionRegistry());
    c.registerInstance(TOKENS.Help, new HelpBuilder(commands, access, i18n));
    c.registerInstance(
      TOKENS.Renderer,
      new CardRenderer(i18n, { cardTemplateId: config.core.dingtalk.cardTemplateId }),
    );
    const events = new EventBus(log);
    c.registerInstance(TOKENS.Events, events);
    const groups = new GroupRegistry(db, events, log.child({ component: 'groups' }), clock);
    await groups.load();
    c.registerInstance(TOKENS.Groups, groups);
    c.registerInstance(TOKENS.Scheduler, new Scheduler(log, config.core.timezone));
    c.registerInstance(TOKENS.Http, new HttpServer(config.core.server, log, metrics, status));
    const diagnostics = new Diagnostics(i18n, config.core.locale, clock);
    c.registerInstance(TOKENS.Diagnostics, diagnostics);
    await options.compose?.(c);
    if (!c.isRegistered(TOKENS.Messenger)) {
      c.registerInstance(
        TOKENS.Messenger,
        options.messenger ? options.messenger(c) : new LocalMessenger(c.resolve(TOKENS.Renderer)),
      );
    }
    c.registerInstance(
      TOKENS.People,
      new PeopleDirectory(config.core.people, new SqlKeyValueStore(db.db, 'core', clock, db.write), () =>
        c.isRegistered(TOKENS.OpenApi) ? c.resolve<OpenApiClient>(TOKENS.OpenApi) : undefined,
      ),
    );
    c.registerInstance(TOKENS.Fallbacks, new FallbackHandlers());
    c.registerSingleton(TOKENS.Pipeline, CommandPipeline);
    c.registerSingleton(TOKENS.ActionPipeline, ActionPipeline);

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
    c.resolve<Scheduler>(TOKENS.Scheduler).schedule('core', 'audit-retention', '23 3 * * *', () =>
      c.resolve<AuditLog>(TOKENS.Audit).prune(clock() - AUDIT_RETENTION_MS),
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
    return this.container.resolve(TOKENS.Logger);
  }

  get http(): HttpServer {
    return this.container.resolve(TOKENS.Http);
  }

  /** Runs a schedule now, as if it were due (`<plugin>:<name>`): for tests. */
  runSchedule(id: string): Promise<void> {
    return this.container.resolve<Scheduler>(TOKENS.Scheduler).runNow(id);
  }

  resolve<T>(token: symbol): T {
    return this.container.resolve<T>(token as never);
  }

  async start(): Promise<void> {
    const c = this.container;
    c.resolve<AuditLog>(TOKENS.Audit).start();
    if (this.options.listen !== false) await this.http.listen();
    await c.resolve<Messenger>(TOKENS.Messenger).start?.();
    const t = this.options.transports;
    this.transports = typeof t === 'function' ? t(c) : (t ?? []);
    const status = c.resolve<StatusBoard>(TOKENS.Status);
    const transports = this.transports;
    new Gauge({
      name: 'dingops_transport_connected',
      help: 'Whether a transport is connected (1) or not (0)',
      labelNames: ['transport'],
      registers: [c.resolve<Metrics>(TOKENS.Metrics).registry],
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
    await c.resolve<EventBus>(TOKENS.Events).emit('lifecycle.ready', { startedAt: Date.now() });
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
    await c.resolve<EventBus>(TOKENS.Events).emit('lifecycle.stopping', { reason });
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
    c.resolve<Scheduler>(TOKENS.Scheduler).stopAll();
    const messenger = c.resolve<Messenger & { close?: () => Promise<void> }>(TOKENS.Messenger);
    await messenger.close?.();
    await c.resolve<AuditLog>(TOKENS.Audit).stop();
    await this.http.close().catch(() => undefined);
    await c.resolve<Database>(TOKENS.Database).close();
    log.info('stopped');
    log.flush?.();
  }
}
