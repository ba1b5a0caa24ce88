import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DependencyContainer } from 'tsyringe';
import { ReplicasToken } from '../cluster/replica-registry.js';
import { ConfigError, type ConfigProblem } from '../config/config-error.js';
import type { LoadedConfig, PluginEntry } from '../config/load-config.js';
import { ConfigToken } from '../config/load-config.js';
import { findUnknownKeys } from '../config/unknown-keys.js';
import { zodProblems } from '../config/zod-problems.js';
import { type AccessControl, AccessToken } from '../decide/access-control.js';
import type { ActionRegistry } from '../decide/actions/action-registry.js';
import { ActionsToken } from '../decide/actions/action-registry.js';
import type { AuditLog } from '../decide/audit-log.js';
import { AuditToken } from '../decide/audit-log.js';
import type { FallbackHandlers } from '../decide/commands/fallbacks.js';
import { FallbacksToken } from '../decide/commands/fallbacks.js';
import type { CommandRegistry } from '../decide/commands/registry.js';
import { CommandsToken } from '../decide/commands/registry.js';
import type { Messenger } from '../deliver/messenger.js';
import { MessengerToken } from '../deliver/messenger.js';
import type { ApiBudget } from '../deliver/openapi/api-budget.js';
import { ApiBudgetToken } from '../deliver/openapi/api-budget.js';
import type { OpenApiClient } from '../deliver/openapi/openapi-client.js';
import { OpenApiToken } from '../deliver/openapi/openapi-client.js';
import type { Diagnostics } from '../diagnostics/diagnostics.js';
import { DiagnosticsToken } from '../diagnostics/diagnostics.js';
import type { GroupRegistry } from '../directory/group-registry.js';
import { GroupsToken } from '../directory/group-registry.js';
import type { PeopleDirectory } from '../directory/people-directory.js';
import { PeopleToken } from '../directory/people-directory.js';
import type { EventBus } from '../events/event-bus.js';
import { EventsToken } from '../events/event-bus.js';
import type { I18n } from '../i18n/i18n.js';
import { I18nToken } from '../i18n/i18n.js';
import { LoggerToken } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { MetricsToken } from '../observe/metrics.js';
import type { StatusBoard } from '../observe/status.js';
import { StatusToken } from '../observe/status.js';
import type { HttpServer } from '../receive/http/http-server.js';
import { HttpToken } from '../receive/http/http-server.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { SchedulerToken } from '../scheduler/scheduler.js';
import type { Database } from '../storage/database.js';
import { DatabaseToken } from '../storage/database.js';
import { SqlKeyValueStore } from '../storage/kv-store.js';
import { migrateToLatest } from '../storage/migrations.js';
import type { ReplayGuard } from '../storage/replay-guard.js';
import { ReplayGuardToken } from '../storage/replay-guard.js';
import { ClockToken } from '../util/clock.js';
import type { Disposer } from '../util/disposer.js';
import type { SecretRedactor } from '../util/redact.js';
import { RedactorToken } from '../util/redact.js';
import { type PluginDefinition, pluginSchema } from './define-plugin.js';
import type { PluginContext } from './plugin-context.js';
import { orderPlugins } from './plugin-order.js';
import { importPlugin } from './plugin-resolver.js';
import { PluginServiceRegistry } from './plugin-services.js';

export type PluginState = 'running' | 'failed' | 'stopped';

export interface PluginRecord {
  name: string;
  def: PluginDefinition;
  config: unknown;
  required: boolean;
  state: PluginState;
  error?: string;
  /** What the plugin registered through its context: undone first when it stops. */
  registrations: Disposer[];
  /** The plugin's own clean-up (`ctx.onDispose`), run after, newest first. */
  disposers: Array<() => void | Promise<void>>;
  /** Its message catalogs: removed last, since its clean-up may still say something. */
  catalogs: Disposer[];
}

export class PluginStartError extends Error {}

/** Resolves plugin modules and validates every enabled plugin's config slice; throws ConfigError listing all problems. */
export async function preparePlugins(
  config: LoadedConfig,
  inline: PluginDefinition[] = [],
): Promise<Array<{ def: PluginDefinition; entry: PluginEntry; config: unknown }>> {
  const problems: ConfigProblem[] = [];
  const prepared: Array<{ def: PluginDefinition; entry: PluginEntry; config: unknown }> = [];
  const lineAt = (p: PropertyKey[]) => config.source?.lineAt(p);
  for (const entry of config.plugins) {
    if (!entry.enabled) continue;
    let def = inline.find((d) => d.name === entry.name);
    if (!def) {
      try {
        def = await importPlugin(entry.name, entry.from, config.baseDir);
      } catch (err) {
        problems.push({
          path: `plugins.${entry.name}`,
          message: err instanceof Error ? err.message : String(err),
          line: lineAt(['plugins', entry.name]),
        });
        continue;
      }
    }
    const schema = pluginSchema(def);
    const parsed = schema.safeParse(entry.raw);
    const prefix = ['plugins', entry.name];
    if (!parsed.success) {
      problems.push(...zodProblems(parsed.error, schema, { prefix, lineAt }));
      continue;
    }
    const unknown = findUnknownKeys(schema, entry.raw, prefix, lineAt);
    if (unknown.length) {
      problems.push(...unknown);
      continue;
    }
    prepared.push({ def, entry, config: parsed.data });
  }
  // Inline plugins (tests, embedding) run even without a config entry.
  for (const def of inline) {
    if (config.plugins.some((e) => e.name === def.name)) continue;
    const parsed = pluginSchema(def).safeParse({});
    if (!parsed.success)
      problems.push(
        ...zodProblems(parsed.error, pluginSchema(def), { prefix: ['plugins', def.name], lineAt }),
      );
    else
      prepared.push({
        def,
        entry: { name: def.name, enabled: true, required: true, raw: {} },
        config: parsed.data,
      });
  }
  if (problems.length) throw new ConfigError(problems, config.file);
  return prepared;
}

/**
 * Sets plugins up in dependency order and tears them down in reverse. A plugin that
 * fails in setup is undone and reported; the others keep running unless it is `required`.
 */
export class PluginHost {
  readonly records = new Map<string, PluginRecord>();
  private readonly services = new PluginServiceRegistry();

  constructor(
    private readonly container: DependencyContainer,
    private readonly log: Logger,
  ) {}

  async start(
    prepared: Array<{ def: PluginDefinition; entry: PluginEntry; config: unknown }>,
  ): Promise<void> {
    const byDef = new Map(prepared.map((p) => [p.def, p]));
    for (const def of orderPlugins(prepared.map((p) => p.def))) {
      const p = byDef.get(def);
      if (!p) continue;
      const blocked = (def.dependsOn ?? []).find((d) => this.records.get(d)?.state !== 'running');
      const record: PluginRecord = {
        name: def.name,
        def,
        config: p.config,
        required: p.entry.required,
        state: 'stopped',
        registrations: [],
        disposers: [],
        catalogs: [],
      };
      this.records.set(def.name, record);
      if (blocked) {
        record.state = 'failed';
        record.error = `dependency '${blocked}' is not running`;
        this.log.error(
          { plugin: def.name, dependency: blocked },
          'plugin not started: a dependency is not running',
        );
        if (record.required)
          throw new PluginStartError(
            `required plugin '${def.name}' not started: dependency '${blocked}' is not running`,
          );
        continue;
      }
      try {
        await this.setup(record);
        record.state = 'running';
        this.log.info({ plugin: def.name }, 'plugin started');
      } catch (err) {
        record.state = 'failed';
        record.error = err instanceof Error ? err.message : String(err);
        this.log.error({ err, plugin: def.name }, 'plugin failed to start');
        await this.undo(record);
        if (record.required)
          throw new PluginStartError(`required plugin '${def.name}' failed to start: ${record.error}`);
      }
    }
  }

  /** DingTalk permissions declared by the plugins that are running (or, before start, enabled). */
  permissions(): Array<{ scope: string; plugin: string }> {
    const out: Array<{ scope: string; plugin: string }> = [];
    const defs = this.records.size
      ? [...this.records.values()].filter((r) => r.state === 'running').map((r) => r.def)
      : this.declared;
    for (const def of defs)
      for (const scope of Object.keys(def.permissions ?? {})) out.push({ scope, plugin: def.name });
    return out;
  }

  /** Plugins enabled in config but not set up (`doctor` from the command line). */
  declared: PluginDefinition[] = [];

  isRunning(name: string): boolean {
    return this.records.get(name)?.state === 'running';
  }

  private async setup(record: PluginRecord): Promise<void> {
    const c = this.container;
    const db = c.resolve<Database>(DatabaseToken);
    if (record.def.migrations)
      await migrateToLatest(db.db, record.name, record.def.migrations, (newer) =>
        this.log.warn(
          { plugin: record.name, newer },
          "the plugin's tables were migrated by a newer version: running as the previous version, as during a rolling upgrade",
        ),
      );
    const ctx = this.context(record, db);
    await record.def.setup(ctx as PluginContext<unknown>);
  }

  private context(record: PluginRecord, db: Database): PluginContext<unknown> {
    const c = this.container;
    const name = record.name;
    const i18n = c.resolve<I18n>(I18nToken);
    const commands = c.resolve<CommandRegistry>(CommandsToken);
    const actions = c.resolve<ActionRegistry>(ActionsToken);
    const events = c.resolve<EventBus>(EventsToken);
    const scheduler = c.resolve<Scheduler>(SchedulerToken);
    const http = c.resolve<HttpServer>(HttpToken);
    const messenger = c.resolve<Messenger>(MessengerToken);
    const status = c.resolve<StatusBoard>(StatusToken);
    const groups = c.resolve<GroupRegistry>(GroupsToken);
    const core = c.resolve<LoadedConfig>(ConfigToken).core;
    const log = c.resolve<Logger>(LoggerToken).child({ plugin: name });
    // Everything registered through this context is collected, to be undone when the plugin stops.
    const collect = (dispose: Disposer): void => void record.registrations.push(dispose);
    const keepCatalog = (dispose: Disposer): void => void record.catalogs.push(dispose);
    if (record.def.i18n) keepCatalog(i18n.add(record.def.i18n, name));
    const people = core.people;
    const directory = c.resolve<PeopleDirectory>(PeopleToken);
    return {
      name,
      config: record.config,
      log,
      locale: core.locale,
      t: (key, vars, locale) =>
        i18n.has(`${name}.${key}`, locale ?? core.locale) || i18n.has(`${name}.${key}`, 'en')
          ? i18n.t(`${name}.${key}`, vars, locale)
          : i18n.t(key, vars, locale),
      i18n: { add: (cat) => keepCatalog(i18n.add(cat, name)), text: (v, l) => i18n.text(v, l) },
      commands: { register: (spec) => collect(commands.register(spec as never, name)) },
      messages: {
        fallback: (handler, options) => {
          const dispose = c.resolve<FallbackHandlers>(FallbacksToken).add(name, handler, options?.order);
          collect(dispose);
          return dispose;
        },
      },
      actions: {
        register: (spec) => {
          const { id, dispose } = actions.register(name, spec);
          collect(dispose);
          return id;
        },
      },
      http: {
        route: (spec) => collect(http.route(name, spec)),
        acceptOnce: (scope, signature, body, ttlMs) =>
          c.resolve<ReplayGuard>(ReplayGuardToken).check(`${name}.${scope}`, signature, body, ttlMs),
        releaseOnce: (scope, signature) =>
          c.resolve<ReplayGuard>(ReplayGuardToken).release(`${name}.${scope}`, signature),
      },
      schedule: (jobName, expr, fn, options) => {
        const handle = scheduler.schedule(name, jobName, expr, fn, options);
        collect(handle.stop);
        return handle;
      },
      events: {
        on: (event, fn) => {
          const off = events.on(event, fn, name);
          collect(off);
          return off;
        },
        listening: (event) => events.listenerCount(event) > 0,
        emit: async (event, payload) => {
          if (!event.startsWith(`${name}.`))
            throw new Error(`plugin '${name}' may only emit its own events ('${name}.*'), not '${event}'`);
          return events.emit(event, payload);
        },
      },
      store: {
        kv: new SqlKeyValueStore(db.db, name, Date.now, db.write),
        // The plugin's tables are its own: the core's typing does not apply to them.
        tables: <T>() => db.db as unknown as Kysely<T>,
        db: db.db,
        dialect: db.dialect,
      },
      send: {
        toGroup: async (ref, content, o) =>
          messenger.send({ kind: 'group', openConversationId: groups.resolve(ref) }, content, o),
        toUser: (userId, content, o) => messenger.send({ kind: 'user', userId }, content, o),
        reply: (message, content, o) => messenger.send({ kind: 'reply', to: message }, content, o),
        updateCard: (cardId, card) => messenger.updateCard(cardId, card),
        streamCard: async (cardId, text, o) =>
          messenger.streamCard ? messenger.streamCard(cardId, text, o) : false,
      },
      groups: {
        list: () => groups.list(),
        get: (id) => groups.get(id),
        resolve: (ref) => groups.resolve(ref),
      },
      people: {
        list: () => people,
        find: (ref) => directory.find(ref),
        resolve: (ref) => directory.resolve(ref),
      },
      plugins: {
        isRunning: (n) => this.isRunning(n),
        provide: (key, api) => collect(this.services.provide(name, key, api)),
        use: (key) => this.services.get(key),
      },
      status: (key, provider) => collect(status.register(name, key, provider)),
      diagnostics: {
        register: (check) => {
          if (check.id !== name && !check.id.startsWith(`${name}.`))
            throw new Error(
              `plugin '${name}' may only register its own checks ('${name}.*'), not '${check.id}'`,
            );
          collect(c.resolve<Diagnostics>(DiagnosticsToken).register(name, check));
        },
        run: (options) => c.resolve<Diagnostics>(DiagnosticsToken).run(options),
      },
      timezone: core.timezone,
      replica: {
        id: c.resolve(ReplicasToken).id,
        alive: (id) => c.resolve(ReplicasToken).isAliveNow(id),
      },
      now: () => c.resolve<() => number>(ClockToken)(),
      configDir: c.resolve<LoadedConfig>(ConfigToken).baseDir,
      access: {
        admins: core.access.admins,
        roles: core.access.roles,
        caller: (userId, nick) => c.resolve<AccessControl>(AccessToken).caller(userId, nick ?? userId),
      },
      audit: {
        record: (entry) => c.resolve<AuditLog>(AuditToken).record({ kind: 'plugin', ...entry }),
      },
      redactor: c.resolve<SecretRedactor>(RedactorToken),
      metrics: { registry: c.resolve<Metrics>(MetricsToken).registry },
      dingtalk: c.isRegistered(OpenApiToken) ? c.resolve<OpenApiClient>(OpenApiToken) : undefined,
      budget: c.isRegistered(ApiBudgetToken) ? c.resolve<ApiBudget>(ApiBudgetToken) : undefined,
      onDispose: (fn) => void record.disposers.push(fn),
    };
  }

  /**
   * Undoes what a plugin registered (its collected disposers: no message reaches it after
   * this), then runs its own clean-up, then removes its catalogs, each newest first.
   */
  private async undo(record: PluginRecord): Promise<void> {
    for (const dispose of record.registrations.reverse()) dispose();
    record.registrations = [];
    for (const fn of record.disposers.reverse()) {
      try {
        await fn();
      } catch (err) {
        this.log.error({ err, plugin: record.name }, 'plugin dispose step failed');
      }
    }
    record.disposers = [];
    for (const dispose of record.catalogs.reverse()) dispose();
    record.catalogs = [];
  }

  async stopAll(): Promise<void> {
    for (const record of [...this.records.values()].reverse()) {
      if (record.state !== 'running') continue;
      await this.undo(record);
      record.state = 'stopped';
      this.log.info({ plugin: record.name }, 'plugin stopped');
    }
  }
}
