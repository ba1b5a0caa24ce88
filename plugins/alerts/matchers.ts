/** A label matcher as Alertmanager writes them: `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
export type Matcher =
  | { name: string; op: '=' | '!='; value: string }
  | {
      name: string;
      op: '=~' | '!~';
      value: string;
      /** Anchored like Alertmanager's: the regex must match the whole value. */
      regex: RegExp;
    };

// The name and operator only: the value is the rest of the (trimmed) text. A pattern that
// also matched trailing space (`(.*?)\s*$`) backtracks quadratically on long values.
const MATCHER = /^([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*/;
/** A regex matcher longer than this is refused: silences and routes are typed by people. */
export const MAX_MATCHER_REGEX = 1000;

export function parseMatcher(text: string): Matcher {
  const trimmed = text.trim();
  const m = MATCHER.exec(trimmed);
  const shown = trimmed.length > 80 ? `${trimmed.slice(0, 79)}…` : trimmed;
  if (!m)
    throw new Error(`'${shown}' is not a matcher (name=value, name!=value, name=~regex or name!~regex)`);
  const [all, name, op] = m as unknown as [string, string, Matcher['op']];
  const raw = trimmed.slice(all.length);
  // `name="value"`: the quotes are not part of the value (Alertmanager's syntax).
  const value =
    raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')
      ? raw.slice(1, -1).replace(/\\(["\\])/g, '$1')
      : raw;
  return matcher(name, op, value, shown);
}

/** A matcher from its parts (never from text: a value is only ever a value). */
export function matcher(name: string, op: Matcher['op'], value: string, shown = `${name}${op}…`): Matcher {
  if (op === '=~' || op === '!~') {
    if (value.length > MAX_MATCHER_REGEX)
      throw new Error(`'${shown}': the regular expression is longer than ${MAX_MATCHER_REGEX} characters`);
    try {
      return { name, op, value, regex: new RegExp(`^(?:${value})$`) };
    } catch (err) {
      throw new Error(`'${shown}': invalid regular expression (${(err as Error).message})`);
    }
  }
  return { name, op, value };
}

export function matches(m: Matcher, labels: Record<string, string>): boolean {
  // A missing label is the empty string, as in Alertmanager.
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.regex.test(v);
    case '!~':
      return !m.regex.test(v);
  }
}

export function matchesAll(list: readonly Matcher[], labels: Record<string, string>): boolean {
  return list.every((m) => matches(m, labels));
}

/** Alertmanager's text form: `name="value"`, with `"` and `\` escaped, so a value reads as a value. */
export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}"${m.value.replace(/[\\"]/g, '\\$&')}"`;
}
