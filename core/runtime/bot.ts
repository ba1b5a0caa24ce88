import 'reflect-metadata';
import type pino from 'pino';
import type { Logger } from 'pino';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { corePlugin } from '../builtins/core-plugin.js';
import { registerBuiltins } from '../builtins/register-builtins.js';
import { ReplicasToken } from '../cluster/replica-registry.js';
import type { LoadedConfig } from '../config/load-config.js';
import { packageInfo } from '../config/version.js';
import { AuditToken } from '../decide/audit-log.js';
import { type Messenger, MessengerToken } from '../deliver/messenger.js';
import { DiagnosticsToken } from '../diagnostics/diagnostics.js';
import { registerCoreDiagnostics } from '../diagnostics/register-core-checks.js';
import { EventsToken } from '../events/event-bus.js';
import { I18nToken } from '../i18n/i18n.js';
import { LoggerToken } from '../observe/logger.js';
import { MetricsToken } from '../observe/metrics.js';
import { StatusToken } from '../observe/status.js';
import type { PluginDefinition } from '../plugins/define-plugin.js';
import { PluginHost, preparePlugins } from '../plugins/plugin-host.js';
import { type HttpServer, HttpToken } from '../receive/http/http-server.js';
import { InboundSinkToken, type Transport } from '../receive/transport.js';
import { SchedulerToken } from '../scheduler/scheduler.js';
import { DatabaseToken } from '../storage/database.js';
import { ClockToken } from '../util/clock.js';
import { composeCore } from './compose-core.js';
import {
  registerPluginStatus,
  registerReplicaStatus,
  registerStoreStatus,
  registerTransportStatus,
} from './core-status.js';
import type { InboundRouter } from './inbound-router.js';

/** How long audit entries are kept. */
export const AUDIT_RETENTION_MS = 180 * 86_400_000;

export interface BotOptions {
  config: LoadedConfig;
  /** Builds the outbound delivery; defaults to the in-memory LocalMessenger. */
  messenger?: (c: DependencyContainer) => Messenger;
  /**
   * Builds the receivers, once the core is composed (they are given the bot's inbound sink;
   * HTTP receivers add their routes before the server starts): `streamTransport`, `httpTransport`.
   */
  transports?: (c: DependencyContainer) => Transport[];
  /** Plugins passed as objects (tests, embedding), in addition to those in config. */
  plugins?: PluginDefinition[];
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
  /** Called during composition, before the pipelines: register the sending side (`composeDingTalk`). */
  compose?: (c: DependencyContainer) => void | Promise<void>;
}

/**
 * One running bot: composes the core (`composeCore`), builds the receivers, registers the
 * built-ins and sets the plugins up; `start()` opens the HTTP port, starts delivery, then the
 * receivers; `stop()` drains in-flight work within a deadline and closes in reverse order.
 */
export class Bot {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly container: DependencyContainer,
    readonly plugins: PluginHost,
    /** Where the receivers hand messages, card clicks and events. */
    readonly inbound: InboundRouter,
    readonly transports: Transport[],
    private readonly options: BotOptions,
  ) {}

  static async create(options: BotOptions): Promise<Bot> {
    const { config } = options;
    const { c, db } = await composeCore(options);
    const clock = c.resolve(ClockToken);
    const status = c.resolve(StatusToken);
    const transports = options.transports?.(c) ?? [];
    registerStoreStatus(status, db);
    registerReplicaStatus(status, c.resolve(MetricsToken), c.resolve(ReplicasToken), clock);
    registerTransportStatus(status, c.resolve(MetricsToken), transports);
    registerBuiltins(c);
    // Audit retention: segments older than 180 days are removed, daily and a minute after start.
    c.resolve(SchedulerToken).every('core', 'audit-retention', 86_400_000, () =>
      c.resolve(AuditToken).prune(clock() - AUDIT_RETENTION_MS),
    );
    const log = c.resolve(LoggerToken);
    const host = new PluginHost(c, log);
    const bot = new Bot(c, host, c.resolve(InboundSinkToken) as InboundRouter, transports, options);
    registerCoreDiagnostics(c, c.resolve(DiagnosticsToken), {
      transports: () => transports.map((t) => ({ name: t.name, state: t.state() })),
      plugins: () => host.permissions(),
    });
    registerPluginStatus(status, host, c.resolve(I18nToken));
    try {
      // The built-in commands first, as a plugin like the others (config: `plugins.core`).
      const { version } = packageInfo();
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
    return this.container.resolve(SchedulerToken).runNow(id);
  }

  /** A core service by its token (`MessengerToken`, `GroupsToken`, ...): for tests and embedding. */
  resolve<T>(token: InjectionToken<T>): T {
    return this.container.resolve(token);
  }

  async start(): Promise<void> {
    const c = this.container;
    c.resolve(AuditToken).start();
    if (this.options.listen !== false) await this.http.listen();
    await c.resolve(MessengerToken).start?.();
    for (const transport of this.transports) await transport.start();
    await c.resolve(EventsToken).emit('lifecycle.ready', { startedAt: Date.now() });
    this.log.info(
      { plugins: [...this.plugins.records.keys()], transports: this.transports.map((x) => x.name) },
      'dingops ready',
    );
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
    log.info({ reason, inflight: this.inbound.inflightCount }, 'stopping');
    await c.resolve(EventsToken).emit('lifecycle.stopping', { reason });
    for (const t of this.transports)
      await t.stop().catch((err) => log.error({ err, transport: t.name }, 'transport stop failed'));
    if ((await this.inbound.drain(deadlineMs)) === 'timeout')
      log.warn({ inflight: this.inbound.inflightCount }, 'stop deadline reached with work still running');
    await this.plugins.stopAll();
    c.resolve(SchedulerToken).stopAll();
    await c.resolve(MessengerToken).close?.();
    await c.resolve(AuditToken).stop();
    await this.http.close().catch(() => undefined);
    await c.resolve(ReplicasToken).leave();
    await c.resolve(DatabaseToken).close();
    log.info('stopped');
    log.flush?.();
  }
}
