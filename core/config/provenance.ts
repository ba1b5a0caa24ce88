import { SECRET_KEY } from '../util/redact.js';
import { formatPath, shownPath } from './config-error.js';
import type { LoadedConfig } from './load-config.js';

export interface ValueOrigin {
  path: string;
  /** As shown: secrets masked, long lists cut. */
  value: string;
  /** `env DINGOPS_PORT`, `bot.config.yaml:12`, `bot.config.yaml:12 via ${VAR}`, or `default`. */
  from: string;
}

/**
 * Where each effective core value came from, for `config check`: an environment override,
 * the file (with its line, and the variable a `${VAR}` read), or the default. So an operator
 * sees at once that, say, `storage.url` came from an image's environment and not their file.
 */
export function valueOrigins(config: LoadedConfig): ValueOrigin[] {
  const out: ValueOrigin[] = [];
  const file = config.file ? shownPath(config.file) : undefined;
  const secrets = new Set(config.secrets);
  const walk = (value: unknown, path: Array<string | number>) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      return;
    }
    const dotted = formatPath(path);
    const key = String(path.at(-1) ?? '');
    const override = config.origins.overrides[dotted];
    const line = override ? undefined : config.source?.lineAt(path);
    const vars = config.origins.interpolated[dotted];
    const from = override
      ? `env ${override}`
      : line !== undefined
        ? `${file}:${line}${vars ? ` via ${vars.map((v) => `\${${v}}`).join(', ')}` : ''}`
        : 'default';
    out.push({ path: dotted, value: shown(value, SECRET_KEY.test(key) || secrets.has(String(value))), from });
  };
  const { plugins: _plugins, ...core } = config.core;
  walk(core, []);
  return out;
}

function shown(value: unknown, secret: boolean): string {
  if (value === undefined || value === '') return '(unset)';
  if (secret) return '***';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const masked = text.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
  return masked.length > 60 ? `${masked.slice(0, 59)}…` : masked;
}

/** The origins as aligned lines. */
export function formatOrigins(origins: ValueOrigin[]): string {
  const w1 = Math.max(...origins.map((o) => o.path.length));
  const w2 = Math.min(40, Math.max(...origins.map((o) => o.value.length)));
  return origins.map((o) => `  ${o.path.padEnd(w1)}  ${o.value.padEnd(w2)}  ${o.from}`).join('\n');
}
