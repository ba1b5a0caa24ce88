const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses `90s`, `15m`, `2h`, `1d`, and compounds such as `1h30m`, to milliseconds.
 * Returns undefined for anything else; a bare number is not a duration (ambiguous unit).
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim().toLowerCase();
  if (!s) return undefined;
  let total = 0;
  let rest = s;
  while (rest.length) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN);
    rest = rest.slice(m[0].length);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** Renders milliseconds compactly: 5400000 -> "1h30m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
