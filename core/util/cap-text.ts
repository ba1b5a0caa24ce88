/**
 * At most `maxChars` characters (UTF-16 units), never half of a surrogate pair; a cut text
 * ends with `…`, so whoever reads or stores it knows it was cut.
 */
export function capText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = maxChars - 1;
  if (end > 0 && /[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--;
  return `${text.slice(0, end)}…`;
}
