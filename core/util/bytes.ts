/** UTF-8 byte length without allocating a Buffer. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * The longest prefix of `s` that fits in `maxBytes` UTF-8 bytes, never splitting a
 * surrogate pair (so never a multi-byte character).
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (s.length * 3 <= maxBytes) return s; // every UTF-16 unit is at most 3 bytes

  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
    if (n + size > maxBytes) return s.slice(0, i);
    n += size;
    if (size === 4) i++;
  }
  return s;
}

const LINK = /\[[^\]\n]*\]\([^)\s]*\)/g;

/**
 * Cuts markdown to `maxBytes`, moving the cut back so it never lands inside a
 * `[text](url)` link or a multi-byte character, and preferring a line break.
 */
export function truncateMarkdown(s: string, maxBytes: number): string {
  if (utf8Length(s) <= maxBytes) return s;
  let cut = truncateUtf8(s, maxBytes).length;
  LINK.lastIndex = 0;
  for (let m = LINK.exec(s); m; m = LINK.exec(s)) {
    if (m.index >= cut) break;
    if (m.index + m[0].length > cut) {
      cut = m.index;
      break;
    }
  }
  const newline = s.lastIndexOf('\n', cut - 1);
  // Prefer a clean line break unless it would throw away most of the budget.
  if (newline > cut * 0.6) cut = newline;
  return s.slice(0, cut).trimEnd();
}
