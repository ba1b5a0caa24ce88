/** A label matcher as Alertmanager writes them: `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  /** Anchored like Alertmanager's: the regex must match the whole value. */
  regex?: RegExp;
}

const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new Error(`'${text}' is not a matcher (name=value, name!=value, name=~regex or name!~regex)`);
  const [, name, op, raw] = m as unknown as [string, string, Matcher['op'], string];
  const value = raw.replace(/^"(.*)"$/, '$1');
  if (op === '=~' || op === '!~') {
    try {
      return { name, op, value, regex: new RegExp(`^(?:${value})$`) };
    } catch (err) {
      throw new Error(`'${text}': invalid regular expression (${(err as Error).message})`);
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
      return m.regex!.test(v);
    case '!~':
      return !m.regex!.test(v);
  }
}

export function matchesAll(list: readonly Matcher[], labels: Record<string, string>): boolean {
  return list.every((m) => matches(m, labels));
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${m.value}`;
}
