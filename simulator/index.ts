/**
 * A local DingTalk for tests, demos and plugin authors: the Stream gateway, the OpenAPI
 * subset dingops uses, sessionWebhooks and card callbacks, speaking the real wire
 * protocols. It imports nothing from the bot: sharing the bot's code would share its bugs.
 */

import { SimClient } from './client.js';
import { loadOrg, normalizeOrg, type SimOrg } from './org/org.js';
import { SimServer } from './server.js';
import { SimState } from './state.js';

export { SimClient } from './client.js';
export type { SimApp, SimGroup, SimOrg, SimUser } from './org/org.js';
export type { CallRecord, Faults, SimButton, SimMessage } from './state.js';
export type { CardView, SayInput, SayResult } from './test-api.js';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Path of a YAML/JSON org file, or an org object; the default org otherwise. */
  org?: string | Partial<SimOrg>;
  /** SYSTEM ping interval (default 30 s; 0 disables). */
  pingIntervalMs?: number;
  sessionWebhookTtlMs?: number;
  tokenTtlMs?: number;
  /** Several connections of one app: all receive pushes (`all`, default), or the newest replaces the rest. */
  streamConnections?: 'all' | 'newest';
}

export interface RunningSimulator {
  /** Base URL of every simulated host (gateway, OpenAPI, legacy API, webhooks). */
  url: string;
  /** Point the bot's `dingtalk.apiBase` and `dingtalk.oapiBase` here. */
  apiBase: string;
  oapiBase: string;
  state: SimState;
  server: SimServer;
  /** Typed test client (the same operations as `/sim/api`). */
  client: SimClient;
  stop(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const org =
    typeof options.org === 'string'
      ? loadOrg(options.org)
      : options.org
        ? normalizeOrg(options.org)
        : loadOrg();
  const state = new SimState(org);
  if (options.sessionWebhookTtlMs) state.sessionWebhookTtlMs = options.sessionWebhookTtlMs;
  if (options.tokenTtlMs) state.tokenTtlMs = options.tokenTtlMs;
  const server = new SimServer(state, {
    pingIntervalMs: options.pingIntervalMs ?? 30_000,
    streamConnections: options.streamConnections,
  });
  const url = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url,
    apiBase: url,
    oapiBase: url,
    state,
    server,
    client: new SimClient(server.api, state),
    stop: () => server.close(),
  };
}
