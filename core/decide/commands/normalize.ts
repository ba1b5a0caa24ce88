/** Longest command text we read; DingTalk text messages are far shorter in practice. */
export const MAX_INPUT_CHARS = 4000;

const QUOTES: Record<string, string> = {
  '\u201C': '"', // “
  '\u201D': '"', // ”
  '\u201E': '"', // „
  '\u300C': '"', // 「
  '\u300D': '"', // 」
  '\u300E': '"', // 『
  '\u300F': '"', // 』
  '\u2018': "'", // ‘
  '\u2019': "'", // ’
};

/**
 * Normalizes what phones and Chinese input methods type into what the parser expects:
 * full-width ASCII (ａｃｋ １２, ：，) to half-width, CJK and smart quotes to ASCII quotes,
 * an em dash (or the IME's doubled ——) to `--`, every Unicode space (DingTalk puts U+2005
 * after a mention) to a plain space. Control and zero-width characters are removed;
 * newlines survive for rest-of-line arguments.
 */
export function normalizeInput(text: string): string {
  // Fast path: printable ASCII needs nothing (the common case for commands).
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      ascii = false;
      break;
    }
  }
  const limited = text.length > MAX_INPUT_CHARS ? text.slice(0, MAX_INPUT_CHARS) : text;
  if (ascii) return limited.trim();

  let out = '';
  for (let i = 0; i < limited.length; i++) {
    const c = limited.charCodeAt(i);
    const ch = limited.charAt(i);
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCharCode(c - 0xfee0);
    else if (c === 0x3000 || c === 0x00a0 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f)
      out += ' ';
    else if (c === 0x2014) {
      out += '--';
      if (limited.charCodeAt(i + 1) === 0x2014) i++; // IME "——" is one typed "--"
    } else if (QUOTES[ch]) out += QUOTES[ch];
    else if (c === 0x0a) out += '\n';
    else if (c === 0x09 || c === 0x0d) out += ' ';
    else if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) continue;
    else if (
      (c >= 0x200b && c <= 0x200f) ||
      c === 0xfeff ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069)
    )
      continue;
    else out += ch;
  }
  return out.trim();
}
