import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Card, OutboundContent } from '../cards/card.js';
import type { Person } from '../config/core-schema.js';
import type { ActionSpec } from '../decide/actions/action-registry.js';
import type { AuditEntry } from '../decide/audit-log.js';
import type { FallbackHandler } from '../decide/commands/fallbacks.js';
import type { Caller, CommandSpec, OptionSpec, ValueSpec } from '../decide/commands/spec.js';
import type { SendOptions, SendReceipt, StreamOptions } from '../deliver/messenger.js';
import type { OpenApiClient } from '../deliver/openapi/openapi-client.js';
import type { CheckResult, DiagnosticCheck } from '../diagnostics/diagnostics.js';
import type { KnownGroup } from '../directory/group-registry.js';
import type { PersonResolution } from '../directory/people-directory.js';
import type { DingopsEvents, EventName } from '../events/event-bus.js';
import type { Catalogs, I18nText, Locale } from '../i18n/i18n.js';
import type { InboundMessage } from '../messages/inbound.js';
import type { StatusProvider } from '../observe/status.js';
import type { RouteSpec } from '../receive/http/http-types.js';
import type { ScheduleHandle, ScheduleOptions } from '../scheduler/scheduler.js';
import type { DialectName } from '../storage/database.js';
import type { KeyValueStore } from '../storage/kv-store.js';
import type { ReplayVerdict } from '../storage/replay-guard.js';
import type { SecretRedactor } from '../util/redact.js';
import type { PluginServices, ServiceKey } from './plugin-services.js';

/** Everything a plugin may do; everything registered through it is undone when the plugin stops. */
export interface PluginContext<C = unknown> {
  readonly name: string;
  /** The plugin's validated config slice. */
  readonly config: C;
  /** pino child logger with `plugin: <name>`; secrets are redacted. */
  readonly log: Logger;
  readonly locale: Locale;
  /** Translate a key of this plugin (`<name>.<key>`), falling back to core keys. */
  t(key: string, vars?: Record<string, unknown>, locale?: Locale): string;
  i18n: {
    add(catalogs: Partial<Catalogs>): void;
    text(value: I18nText, locale?: Locale): string;
  };
  /** Messages that are no command (free text): handlers in order, each may pass with `next()`. */
  messages: {
    /** Returns a function that removes the handler (it goes when the plugin stops anyway). */
    fallback(handler: FallbackHandler, options?: { order?: number }): () => void;
  };
  commands: {
    register<const A extends readonly ValueSpec[], const O extends readonly OptionSpec[]>(
      spec: CommandSpec<A, O>,
    ): void;
  };
  actions: {
    /** Registers a card action; returns its full id (`<plugin>.<name>`) for buttons. */
    register(spec: ActionSpec): string;
  };
  http: {
    route(spec: RouteSpec): void;
    /**
     * Accepts a webhook signature once (for the bot's whole store, so every replica agrees):
     * `first` the first time, `same` for the same body again (a retry), `reused` for another
     * body with a signature already used: refuse it. `ttlMs`: how long the signature is valid.
     */
    acceptOnce(scope: string, signature: string, body: string, ttlMs: number): Promise<ReplayVerdict>;
    /** The request accepted with this signature failed before it was handled: its retry may use it again. */
    releaseOnce(scope: string, signature: string): Promise<void>;
  };
  schedule(name: string, cron: string, fn: () => unknown, options?: ScheduleOptions): ScheduleHandle;
  events: {
    on<E extends EventName>(event: E, fn: (payload: DingopsEvents[E]) => void | Promise<void>): () => void;
    /** Whether anything listens: skip building a costly payload nobody reads. */
    listening(event: EventName): boolean;
    /** Emits an event; plugin events must be named `<plugin>.<...>`. */
    emit<E extends EventName>(event: E, payload: DingopsEvents[E]): Promise<void>;
  };
  store: {
    kv: KeyValueStore;
    /**
     * Kysely over the bot's database, typed with the plugin's own tables (those its migrations
     * create): `const db = ctx.store.tables<MyTables>()`, where `MyTables` maps each table name
     * to its columns (see plugins/alerts/tables.ts).
     */
    tables<T>(): Kysely<T>;
    /**
     * @deprecated Untyped: use `tables<MyTables>()`. Kept so plugins written before it still build.
     */
    // biome-ignore lint/suspicious/noExplicitAny: the untyped handle of plugins written before tables<T>()
    db: Kysely<any>;
    dialect: DialectName;
  };
  send: {
    /** `group`: an openConversationId or the title of one installed group (see `groups.resolve`). */
    toGroup(group: string, content: OutboundContent, options?: SendOptions): Promise<SendReceipt>;
    toUser(userId: string, content: OutboundContent, options?: SendOptions): Promise<SendReceipt>;
    reply(message: InboundMessage, content: OutboundContent, options?: SendOptions): Promise<SendReceipt>;
    updateCard(cardId: string, card: Card): Promise<void>;
    /**
     * Streams text into a card sent earlier (replacing what was streamed before); false when
     * that card cannot stream (it went out as markdown): send the text as a message instead.
     */
    streamCard(cardId: string, text: string, options?: StreamOptions): Promise<boolean>;
  };
  /** The group chats the bot knows (from install/rename events and messages). */
  groups: {
    list(): KnownGroup[];
    get(openConversationId: string): KnownGroup | undefined;
    /**
     * An openConversationId from an id or an exact title. Throws `GroupReferenceError` when
     * the title matches no installed group or several: report it as a configuration error.
     */
    resolve(ref: string): string;
  };
  /** People from the `people` config section. */
  people: {
    list(): readonly Person[];
    /** By name (case-insensitive), userId or mobile. */
    find(ref: string): Person | undefined;
    /**
     * The DingTalk userId of a name, userId or mobile (mobiles looked up through the API and
     * cached), or who could not be found and why. Other API failures are thrown.
     */
    resolve(ref: string): Promise<PersonResolution>;
  };
  plugins: {
    /** Whether another plugin is running (e.g. show a button only when its plugin is on). */
    isRunning(name: string): boolean;
    /**
     * Offers an API to other plugins under `<this plugin>.<name>` (typed through
     * `PluginServices`); withdrawn when this plugin stops.
     */
    provide<K extends ServiceKey>(key: K, api: PluginServices[K]): void;
    /** Another plugin's API, or undefined while that plugin is not running. Look it up when needed, not once. */
    use<K extends ServiceKey>(key: K): PluginServices[K] | undefined;
  };
  /** `doctor`: checks of this plugin's own setup (ids under `<plugin>.`), run on demand only. */
  diagnostics: {
    register(check: DiagnosticCheck): void;
    /** Runs checks now (ids or prefixes), as `doctor` would, in a language. */
    run(options: { only?: string[]; fresh?: boolean; locale?: Locale }): Promise<CheckResult[]>;
  };
  /** The bot's timezone (IANA), for times shown to people. */
  readonly timezone: string;
  /**
   * This bot process among the replicas sharing the store: its id, and whether another one
   * (by id) is alive (its heartbeat in the store is fresh). Work only one process can carry on (a child
   * process, a socket) records the id, so the others leave it alone while it lives.
   */
  readonly replica: { readonly id: string; alive(id: string): Promise<boolean> };
  /** The bot's clock (ms since the epoch): what the bot's own time-based logic uses. */
  now(): number;
  /** The folder of the config file (relative paths in a plugin's config resolve against it). */
  readonly configDir: string;
  /** Who the config names: admins, and the members of each role. */
  readonly access: {
    readonly admins: readonly string[];
    readonly roles: Readonly<Record<string, readonly string[]>>;
    /**
     * Someone as the permission layer sees them now (roles and admin from the current config),
     * for checking a person who is not the one asking: the requester of an approval being
     * granted, the owner of a scheduled job.
     */
    caller(userId: string, nick?: string): Caller;
  };
  /** The audit log (`audit` in chat): record what people did through this plugin. */
  audit: {
    record(entry: Omit<AuditEntry, 'kind'> & { kind?: AuditEntry['kind'] }): void;
  };
  /** The bot's secrets (app secret, keys, tokens): remove them from text; `with` adds a plugin's own. */
  readonly redactor: SecretRedactor;
  /** Prometheus metrics: add the plugin's own to `registry` (removed when it stops, by you). */
  readonly metrics: { readonly registry: Registry };
  /** DingTalk's OpenAPI calls the core makes for plugins (scene groups, users...); undefined without DingTalk. */
  readonly dingtalk: OpenApiClient | undefined;
  /** This month's metered DingTalk calls against the app's quota; undefined without DingTalk. */
  readonly budget: { snapshot(): { used: number; limit: number; projected: number } } | undefined;
  /** Adds a line to `status` and, when critical, to `/readyz`. */
  status(key: string, provider: StatusProvider): void;
  /** Runs when the plugin stops (after its registrations are removed), in reverse order. */
  onDispose(fn: () => void | Promise<void>): void;
}
