import { describe, expect, it } from 'vitest';
import { alertsConfigSchema } from '../../../plugins/alerts/config.js';

/** What `config check` (and start) say of an alerts config, before any alert arrives. */
const problems = (config: unknown) => {
  const r = alertsConfigSchema.safeParse(config);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('alerts config', () => {
  it('refuses sources whose alerts could reach nobody: no defaultRoute target and no catch-all route', () => {
    const source = { sources: { alertmanager: { token: 'am-token-0123456789' } } };
    // The shipped replicas config was exactly this: every alert answered 200, seen by nobody.
    expect(problems(source)).toEqual([
      expect.stringMatching(/^defaultRoute: alerts that match no route would reach nobody/),
    ]);
    expect(
      problems({ ...source, routes: [{ match: ['severity=critical'], groups: ['cid-ops'] }] }),
    ).toHaveLength(1);
    // A default route, or a route without matchers, catches everything.
    expect(problems({ ...source, defaultRoute: { groups: ['cid-ops'] } })).toEqual([]);
    expect(problems({ ...source, defaultRoute: { people: ['bob'] } })).toEqual([]);
    expect(problems({ ...source, routes: [{ groups: ['cid-ops'] }] })).toEqual([]);
    // No source, nothing arrives: nothing to route yet.
    expect(problems({})).toEqual([]);
  });
});
