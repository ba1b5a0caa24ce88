/** Damerau-free Levenshtein distance; inputs are short (command names, config keys). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  // Two rows of the matrix; typed arrays read as numbers (every cell is written before it is read).
  let prev = Uint32Array.from({ length: b.length + 1 }, (_, i) => i);
  let cur = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length] ?? 0;
}

/**
 * The closest candidates to `input`, best first. A candidate counts when it is within
 * roughly a third of the input's length in edits, or one of the two starts with the other.
 */
export function didYouMean(input: string, candidates: Iterable<string>, max = 3): string[] {
  const needle = input.toLowerCase();
  const limit = Math.max(1, Math.ceil(needle.length / 3));
  const scored: Array<[string, number]> = [];
  for (const c of new Set(candidates)) {
    const lc = c.toLowerCase();
    // Either one extends the other (`stat` → `status`, `loggin` → `log`): a near miss, not a distance.
    const extends_ =
      (lc.startsWith(needle) && needle.length >= 2) || (needle.startsWith(lc) && lc.length >= 3);
    const d = extends_ ? 0.5 : editDistance(needle, lc);
    if (d <= limit) scored.push([c, d]);
  }
  scored.sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]));
  return scored.slice(0, max).map(([c]) => c);
}
