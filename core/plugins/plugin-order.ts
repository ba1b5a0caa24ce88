import type { PluginDefinition } from './define-plugin.js';

export class PluginOrderError extends Error {}

/**
 * Orders plugins so each comes after what it depends on (`dependsOn`, and `after` when
 * that plugin is enabled). Missing hard dependencies and cycles are errors naming the plugins.
 */
export function orderPlugins(defs: PluginDefinition[]): PluginDefinition[] {
  const byName = new Map(defs.map((d) => [d.name, d]));
  for (const d of defs) {
    for (const dep of d.dependsOn ?? []) {
      if (!byName.has(dep))
        throw new PluginOrderError(`plugin '${d.name}' depends on '${dep}', which is not enabled in config`);
    }
  }
  const out: PluginDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (d: PluginDefinition, chain: string[]) => {
    const s = state.get(d.name);
    if (s === 'done') return;
    if (s === 'visiting')
      throw new PluginOrderError(`plugin dependency cycle: ${[...chain, d.name].join(' -> ')}`);
    state.set(d.name, 'visiting');
    for (const dep of [...(d.dependsOn ?? []), ...(d.after ?? [])]) {
      const target = byName.get(dep);
      if (target) visit(target, [...chain, d.name]);
    }
    state.set(d.name, 'done');
    out.push(d);
  };
  for (const d of defs) visit(d, []);
  return out;
}
