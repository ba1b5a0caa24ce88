/** A JSON object as the simulator receives it from the bot: nothing is known until read. */
export type Json = Record<string, unknown>;

/** The value at a path of nested objects, or undefined where a step is missing or no object. */
export function field(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Json)[key];
  }
  return v;
}

/** The value when it is a string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The value when it is a plain object, else an empty one. */
export function obj(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/** The strings of a list (anything else in it, or no list, gives none). */
export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
}
