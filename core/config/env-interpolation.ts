import { type Document, isScalar, parse as parseYamlValue, visit } from 'yaml';
import type { ConfigProblem } from './config-error.js';
import { formatPath } from './config-error.js';

const EXPR = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationResult {
  problems: ConfigProblem[];
  /** Paths whose value came from the environment, and the values (to register as secrets). */
  fromEnv: Array<{ path: string; value: string; vars: string[] }>;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in string scalars of the parsed document,
 * in place, so line numbers stay right and env values are never re-parsed as YAML
 * (a secret containing `: ` or `#` stays intact). `$${` escapes a literal `${`.
 * An unquoted scalar that is exactly one expression takes the type of its value,
 * so `port: ${PORT:-8080}` is a number.
 */
export function interpolateEnv(
  doc: Document,
  env: NodeJS.ProcessEnv,
  lineOf: (offset: number) => number,
): InterpolationResult {
  const problems: ConfigProblem[] = [];
  const fromEnv: InterpolationResult['fromEnv'] = [];
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const keys = path
        .filter((p) => !isScalar(p) && 'key' in (p as object))
        .map((p) => {
          const k = (p as { key: unknown }).key;
          return isScalar(k) ? (k.value as string) : String(k);
        });
      const dotted = formatPath(keys);
      const original = node.value;
      const vars: string[] = [];
      const replaced = original.replace(
        EXPR,
        (whole, name: string | undefined, fallback: string | undefined) => {
          if (whole === '$${') return '${';
          const value = name === undefined ? undefined : env[name];
          if (name !== undefined && value !== undefined && value !== '') {
            vars.push(name);
            return value;
          }
          if (fallback !== undefined) return fallback;
          problems.push({
            path: dotted,
            message: `environment variable ${name} is not set (use \${${name}:-default} for a default)`,
            line: node.range ? lineOf(node.range[0]) : undefined,
          });
          return '';
        },
      );
      const single = /^\$\{[^}]+\}$/.test(original) && node.type === 'PLAIN';
      node.value = single && replaced !== '' ? coerce(replaced) : replaced;
      if (vars.length) fromEnv.push({ path: dotted, value: replaced, vars });
    },
  });
  return { problems, fromEnv };
}

function coerce(text: string): unknown {
  try {
    const v = parseYamlValue(text);
    return typeof v === 'number' || typeof v === 'boolean' ? v : text;
  } catch {
    return text;
  }
}
