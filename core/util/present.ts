/**
 * The value, or an error naming what is missing. For lookups that cannot miss (a row read
 * back after it was written, a config entry the schema guarantees): when one does, the error
 * says which, instead of a `TypeError` further on.
 */
export function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what} is missing`);
  return value;
}
