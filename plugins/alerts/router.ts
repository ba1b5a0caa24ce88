import type { AlertsConfig } from './config.js';
import { matchesAll } from './matchers.js';

/** Where an incident goes: the routes that matched and the union of their targets. */
export interface RouteResult {
  routes: string[];
  groups: string[];
  people: string[];
  escalation?: string;
}

/**
 * Ordered routes, Alertmanager style: the first route whose matchers all hold wins, unless
 * it says `continue`, in which case later matching routes add their targets too. When none
 * matches, the default route applies.
 */
export function route(config: AlertsConfig, labels: Record<string, string>): RouteResult {
  const out: RouteResult = { routes: [], groups: [], people: [] };
  for (const [i, r] of config.routes.entries()) {
    if (!matchesAll(r.match, labels)) continue;
    out.routes.push(r.name ?? `#${i + 1}`);
    add(out, r);
    out.escalation ??= r.escalation;
    if (!r.continue) return out;
  }
  if (!out.routes.length) {
    out.routes.push('default');
    add(out, config.defaultRoute);
    out.escalation = config.defaultRoute.escalation;
  }
  return out;
}

function add(out: RouteResult, t: { groups: string[]; people: string[] }): void {
  for (const g of t.groups) if (!out.groups.includes(g)) out.groups.push(g);
  for (const p of t.people) if (!out.people.includes(p)) out.people.push(p);
}
