/**
 * Environment variables that override the config file (documented contract, so a
 * container can be configured without editing YAML).
 */
export const ENV_OVERRIDES: Array<{ env: string; path: string[]; type?: 'number' }> = [
  { env: 'DINGTALK_CLIENT_ID', path: ['dingtalk', 'clientId'] },
  { env: 'DINGTALK_CLIENT_SECRET', path: ['dingtalk', 'clientSecret'] },
  { env: 'DINGTALK_API_BASE', path: ['dingtalk', 'apiBase'] },
  { env: 'DINGTALK_OAPI_BASE', path: ['dingtalk', 'oapiBase'] },
  { env: 'DINGOPS_PORT', path: ['server', 'port'], type: 'number' },
  { env: 'DINGOPS_HOST', path: ['server', 'host'] },
  { env: 'DINGOPS_STATUS_TOKEN', path: ['server', 'statusToken'] },
  { env: 'DINGOPS_STORAGE_URL', path: ['storage', 'url'] },
  { env: 'DINGOPS_LOG_LEVEL', path: ['log', 'level'] },
  { env: 'DINGOPS_LOCALE', path: ['locale'] },
];

/** Applies the overrides; returns which variables set which paths (dotted), for `config check`. */
export function applyEnvOverrides(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const applied: Record<string, string> = {};
  // A simulator serves both hosts: DINGTALK_API_BASE alone redirects the legacy host too
  // (and `config check` says so: the value came from DINGTALK_API_BASE, not an unset variable).
  const oapiFromApi = Boolean(env.DINGTALK_API_BASE && !env.DINGTALK_OAPI_BASE);
  if (oapiFromApi) env = { ...env, DINGTALK_OAPI_BASE: env.DINGTALK_API_BASE };
  for (const { env: name, path, type } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let node = raw;
    const leaf = path.at(-1);
    if (leaf === undefined) continue;
    for (const key of path.slice(0, -1)) {
      if (!node[key] || typeof node[key] !== 'object') node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[leaf] = type === 'number' && /^\d+$/.test(value) ? Number(value) : value;
    applied[path.join('.')] = name === 'DINGTALK_OAPI_BASE' && oapiFromApi ? 'DINGTALK_API_BASE' : name;
  }
  return applied;
}
