import { z } from 'zod';
import type { Catalogs, I18nText } from '../i18n/i18n.js';
import type { MigrationList } from '../storage/migrations.js';
import type { PluginContext } from './plugin-context.js';

export interface PluginDefinition<S extends z.ZodType = z.ZodType> {
  /** Lower-case name; the plugin's commands, actions, keys and tables live under it. */
  name: string;
  description?: I18nText;
  version?: string;
  /**
   * The plugin's config schema (its slice of `plugins.<name>`), or a function receiving
   * zod, so a plugin file mounted into the container needs no imports at all.
   */
  config?: S | ((zod: typeof z) => S);
  /** Plugins that must be set up first (and be running) for this one to start. */
  dependsOn?: readonly string[];
  /** Plugins set up first when they are enabled; this one runs without them. */
  after?: readonly string[];
  /**
   * DingTalk permissions (scopes) the plugin calls APIs with, and what for: `doctor` checks
   * that the app holds them, e.g. `{ qyapi_chat_manage: 'create war rooms' }`.
   */
  permissions?: Readonly<Record<string, I18nText>>;
  /** Messages under the plugin's namespace: `ctx.t('key')` finds `<name>.key`. */
  i18n?: Partial<Catalogs>;
  /** Kysely migrations of the plugin's own tables, run before `setup` (own migration table). */
  migrations?: MigrationList;
  setup(ctx: PluginContext<z.output<S>>): void | Promise<void>;
}

/**
 * Declares a plugin. The identity function with types: `ctx.config` is typed from the schema.
 *
 * ```ts
 * export default definePlugin({
 *   name: 'hello',
 *   config: (z) => z.strictObject({ greeting: z.string().default('hi') }),
 *   setup(ctx) { ctx.commands.register({ name: 'hello', description: 'Say hi', handler: () => ctx.config.greeting }); },
 * });
 * ```
 */
export function definePlugin<S extends z.ZodType = z.ZodObject<{}>>(
  def: PluginDefinition<S>,
): PluginDefinition<S> {
  return def;
}

/** The schema object of a definition (calling the factory form). */
export function pluginSchema(def: PluginDefinition): z.ZodType {
  const c = def.config;
  if (!c) return z.strictObject({});
  return typeof c === 'function' && !('_zod' in c)
    ? (c as (zod: typeof z) => z.ZodType)(z)
    : (c as z.ZodType);
}

export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PluginDefinition).name === 'string' &&
    typeof (value as PluginDefinition).setup === 'function'
  );
}
