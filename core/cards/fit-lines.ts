import { truncateMarkdown, utf8Length } from '../util/bytes.js';

/**
 * Joins lines under a byte budget. Lines that do not fit are replaced by one
 * `moreLine(n)` line, so the reader always sees that something was left out.
 */
export function fitLines(lines: string[], maxBytes: number, moreLine: (n: number) => string): string {
  const out: string[] = [];
  let used = 0;
  for (const [i, line] of lines.entries()) {
    const size = utf8Length(line) + 1;
    const reserve = i < lines.length - 1 ? utf8Length(moreLine(lines.length - i)) + 1 : 0;
    if (used + size + reserve > maxBytes) {
      if (out.length === 0 && i === 0) {
        // A single oversized first line: keep what fits of it rather than nothing.
        const room = maxBytes - reserve - 1;
        if (room > 0) out.push(truncateMarkdown(line, room));
        out.push(moreLine(lines.length - 1));
        return out.join('\n');
      }
      out.push(moreLine(lines.length - i));
      return out.join('\n');
    }
    out.push(line);
    used += size;
  }
  return out.join('\n');
}

/** The most one list item or field may take: one long item never pushes the others out. */
export const ITEM_BYTES = 600;

/** One item or field value cut to `ITEM_BYTES` (with a visible `…`), before the list is fitted. */
export function fitItem(text: string, maxBytes = ITEM_BYTES): string {
  if (utf8Length(text) <= maxBytes) return text;
  return `${truncateMarkdown(text, maxBytes - 3)}…`;
}
