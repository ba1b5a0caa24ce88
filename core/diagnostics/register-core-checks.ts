import { createHmac } from 'node:crypto';
import type { DependencyContainer } from 'tsyringe';
import type { LoadedConfig } from '../config/load-config.js';
import { ConfigToken } from '../config/load-config.js';
import type { ApiBudget } from '../deliver/openapi/api-budget.js';
import { ApiBudgetToken } from '../deliver/openapi/api-budget.js';
import type { OpenApiClient } from '../deliver/openapi/openapi-client.js';
import { OpenApiToken } from '../deliver/openapi/openapi-client.js';
import type { GroupRegistry } from '../directory/group-registry.js';
import { GroupsToken } from '../directory/group-registry.js';
import type { HttpServer } from '../receive/http/http-server.js';
import { HttpToken } from '../receive/http/http-server.js';
import type { TransportState } from '../receive/transport.js';
import type { Database } from '../storage/database.js';
import { DatabaseToken } from '../storage/database.js';
import { ClockToken } from '../util/clock.js';
import { sameSecretText } from '../util/constant-time.js';
import { corePermissions, type PermissionNeed } from './check-deps.js';
import type { Diagnostics } from './diagnostics.js';
import { dingtalkChecks } from './dingtalk-checks.js';
import { localChecks } from './local-checks.js';
import { orgChecks } from './org-checks.js';

/**
 * The core's checks (config, storage, security, clock, credentials, connection, permissions,
 * groups, people, quota), and `GET /doctor` for `dingops doctor` (answered to this machine only).
 */
export function registerCoreDiagnostics(
  c: DependencyContainer,
  diagnostics: Diagnostics,
  live: {
    transports: () => Array<{ name: string; state: TransportState }>;
    plugins: () => Array<{ scope: string; plugin: string }>;
  },
): void {
  const config = c.resolve<LoadedConfig>(ConfigToken);
  const api = c.isRegistered(OpenApiToken) ? c.resolve<OpenApiClient>(OpenApiToken) : undefined;
  if (api) api.onMissingScopes = (name, scopes) => diagnostics.noteMissingScopes(name, scopes);
  const deps = {
    config,
    db: c.resolve<Database>(DatabaseToken),
    groups: c.resolve<GroupRegistry>(GroupsToken),
    api,
    budget: c.isRegistered(ApiBudgetToken) ? c.resolve<ApiBudget>(ApiBudgetToken) : undefined,
    transports: live.transports,
    permissions: (): PermissionNeed[] => {
      const by = new Map<string, string[]>();
      for (const scope of corePermissions(config)) by.set(scope, ['core']);
      for (const { scope, plugin } of live.plugins()) by.set(scope, [...(by.get(scope) ?? []), plugin]);
      return [...by].map(([scope, who]) => ({ scope, by: who }));
    },
    seenMissing: () => diagnostics.missingScopes(),
    now: c.resolve<() => number>(ClockToken),
  };
  for (const check of [...localChecks(deps), ...dingtalkChecks(deps), ...orgChecks(deps)])
    diagnostics.register('core', check);

  c.resolve<HttpServer>(HttpToken).route('core', {
    method: 'GET',
    url: '/doctor',
    handler: async (req, reply) => {
      // Diagnostics describe the deployment: only this machine may ask, and not through a
      // reverse proxy on this machine (which would make it public).
      const proxied = req.headers['x-forwarded-for'] || req.headers.forwarded || req.headers['x-real-ip'];
      if (!isLoopback(req.socket.remoteAddress ?? '') || proxied)
        return reply.code(403).send({ error: 'doctor answers local requests only' });
      // Probes spend metered DingTalk calls: only who holds the bot's config may ask
      // (`dingops doctor` derives the token from it), not anything that can reach loopback.
      const token = req.headers[DOCTOR_TOKEN_HEADER];
      const expected = doctorToken(config.core.dingtalk.clientSecret);
      if (typeof token !== 'string' || !sameSecretText(token, expected))
        return reply.code(401).send({
          error: `doctor needs the ${DOCTOR_TOKEN_HEADER} header: run dingops doctor with the bot's config`,
        });
      const q = req.query as { fresh?: string; only?: string };
      const results = await diagnostics.run({
        fresh: q.fresh === '1',
        only: q.only ? q.only.split(',') : undefined,
      });
      return reply.send({ schemaVersion: 1, checks: results });
    },
  });
}

export const DOCTOR_TOKEN_HEADER = 'x-dingops-doctor-token';

/** The token `GET /doctor` wants: derived from the app secret, so the CLI that reads the config knows it. */
export function doctorToken(clientSecret: string): string {
  return createHmac('sha256', clientSecret).update('dingops doctor').digest('hex');
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
