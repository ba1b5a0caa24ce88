import type { z } from 'zod';

type AnyDef = { type: string; [k: string]: unknown };
const defOf = (s: unknown): AnyDef | undefined => (s as { _zod?: { def?: AnyDef } })?._zod?.def;

/** Strips wrappers (optional, default, pipe, ...) to the schema that describes the value's shape. */
export function unwrap(schema: unknown): unknown {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const def = defOf(s);
    if (!def) return s;
    if (
      ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(def.type)
    )
      s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else if (def.type === 'lazy') s = (def.getter as () => unknown)();
    else return s;
  }
  return s;
}

/** The schema that applies at a path inside `root`, or undefined when the path leaves it. */
export function schemaAt(root: z.ZodType | unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let s = unwrap(root);
  for (const seg of path) {
    const def = defOf(s);
    if (!def) return undefined;
    if (def.type === 'object') s = (def.shape as Record<string, unknown>)[String(seg)];
    else if (def.type === 'array') s = def.element;
    else if (def.type === 'record') s = def.valueType;
    else if (def.type === 'union') {
      const options = def.options as unknown[];
      s = options.map((o) => schemaAt(o, [seg])).find(Boolean);
    } else return undefined;
    s = unwrap(s);
  }
  return s;
}

/** Keys an object schema accepts at a path (for did-you-mean on unknown keys). */
export function knownKeys(root: unknown, path: ReadonlyArray<PropertyKey>): string[] {
  const def = defOf(schemaAt(root, path));
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}
