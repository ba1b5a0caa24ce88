import type { LoadedConfig } from '../config/load-config.js';
import type { ApiBudget } from '../deliver/openapi/api-budget.js';
import type { OpenApiClient } from '../deliver/openapi/openapi-client.js';
import type { GroupRegistry } from '../directory/group-registry.js';
import type { TransportState } from '../receive/transport.js';
import type { Database } from '../storage/database.js';

/** A DingTalk permission the bot needs, and who needs it. */
export interface PermissionNeed {
  scope: string;
  /** `core`, or the plugins that declared it. */
  by: string[];
}

/** What the core checks look at; each is optional where the bot may run without it. */
export interface CoreCheckDeps {
  config: LoadedConfig;
  db: Database;
  groups: GroupRegistry;
  /** The OpenAPI client; absent when the bot is not connected to DingTalk (local console). */
  api?: OpenApiClient;
  budget?: ApiBudget;
  /** Transports of the running bot (none when `doctor` runs from the command line). */
  transports: () => Array<{ name: string; state: TransportState }>;
  permissions: () => PermissionNeed[];
  /** Scopes DingTalk reported missing at runtime (`requiredScopes` of past errors). */
  seenMissing: () => ReadonlyMap<string, { api: string; at: number }>;
  now: () => number;
}

/** The permissions the core itself uses. */
export function corePermissions(config: LoadedConfig): string[] {
  const scopes = ['qyapi_robot_sendmsg', 'qyapi_chat_base_read'];
  if (config.core.dingtalk.cardTemplateId) scopes.push('Card.Instance.Write');
  return scopes;
}
