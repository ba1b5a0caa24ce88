/**
 * Whether a parsed JSON value is nested deeper than `max` levels, checked without recursion:
 * `JSON.parse` takes 100,000 nested arrays, but `JSON.stringify` and recursive readers
 * overflow the stack on them, which would turn bad input into a 500 (retried forever by
 * its sender) instead of a 400.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [v, depth] = top;
    if (!v || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
