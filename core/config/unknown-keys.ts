import { didYouMean } from '../util/did-you-mean.js';
import { type ConfigProblem, formatPath } from './config-error.js';
import { unwrap } from './zod-walk.js';

/** The part of zod's internal definition this walk reads (`_zod.def`). */
type Def = {
  type: string;
  shape?: Record<string, unknown>;
  catchall?: unknown;
  element?: unknown;
  valueType?: unknown;
  options?: unknown[];
};
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } })?._zod?.def;

/**
 * Reports keys the schema does not know, even where a plugin used a non-strict
 * `z.object` (which would silently drop them): a misspelt key in config is always an
 * error. Objects with an explicit catch-all (`z.looseObject`, `.catchall(...)`) are left alone.
 */
export function findUnknownKeys(
  schema: unknown,
  value: unknown,
  path: PropertyKey[],
  lineAt: (p: PropertyKey[]) => number | undefined,
  out: ConfigProblem[] = [],
): ConfigProblem[] {
  const s = unwrap(schema);
  const def = defOf(s);
  if (!def || value === null || typeof value !== 'object') return out;
  if (def.type === 'object') {
    const shape = def.shape ?? {};
    const catchall = defOf(def.catchall);
    const strip = !def.catchall; // zod's default: unknown keys silently removed
    for (const [k, v] of Object.entries(value)) {
      if (k in shape) findUnknownKeys(shape[k], v, [...path, k], lineAt, out);
      else if (strip) {
        const guess = didYouMean(k, Object.keys(shape), 1)[0];
        out.push({
          path: formatPath([...path, k]),
          message: `unknown key${guess ? `; did you mean '${guess}'?` : ''}`,
          line: lineAt([...path, k]),
        });
      } else if (
        catchall &&
        catchall.type !== 'never' &&
        catchall.type !== 'unknown' &&
        catchall.type !== 'any'
      ) {
        findUnknownKeys(def.catchall, v, [...path, k], lineAt, out);
      }
    }
  } else if (def.type === 'array' && Array.isArray(value)) {
    for (const [i, v] of value.entries()) findUnknownKeys(def.element, v, [...path, i], lineAt, out);
  } else if (def.type === 'record') {
    for (const [k, v] of Object.entries(value)) findUnknownKeys(def.valueType, v, [...path, k], lineAt, out);
  } else if (def.type === 'union') {
    // The branch that knows the most of the value's keys is the one the user meant.
    const keys = Object.keys(value);
    const score = (o: unknown) => {
      const d = defOf(unwrap(o));
      return d?.type === 'object' ? keys.filter((k) => k in (d.shape ?? {})).length : -1;
    };
    const best = [...(def.options ?? [])].sort((a, b) => score(b) - score(a))[0];
    if (best && score(best) >= 0) findUnknownKeys(best, value, path, lineAt, out);
  }
  return out;
}
