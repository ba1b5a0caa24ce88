import type { Disposer } from '../util/disposer.js';
/**
 * APIs plugins offer each other (`ctx.plugins.provide` / `ctx.plugins.use`), keyed
 * `<plugin>.<name>`. A plugin types its API by declaration merging:
 *
 * ```ts
 * declare module 'dingops' { interface PluginServices { 'alerts.incidents': IncidentsApi } }
 * ```
 *
 * The core knows no plugin by name: it only keeps who provided what, and withdraws an API
 * when its plugin stops, so a user of it sees `undefined` rather than a dead object.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by plugins through declaration merging
export interface PluginServices {}

export type ServiceKey = keyof PluginServices & string;

export class PluginServiceRegistry {
  private readonly services = new Map<string, { owner: string; api: unknown }>();

  provide(owner: string, key: string, api: unknown): Disposer {
    if (!key.startsWith(`${owner}.`))
      throw new Error(`plugin '${owner}' may only provide its own services ('${owner}.*'), not '${key}'`);
    const existing = this.services.get(key);
    if (existing) throw new Error(`service '${key}' is already provided by plugin '${existing.owner}'`);
    const entry = { owner, api };
    this.services.set(key, entry);
    return () => {
      if (this.services.get(key) === entry) this.services.delete(key);
    };
  }

  get<T>(key: string): T | undefined {
    return this.services.get(key)?.api as T | undefined;
  }
}
