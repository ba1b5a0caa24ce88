export interface Token {
  value: string;
  /** True when any part was quoted: a quoted `--x` is a value, never an option. */
  quoted: boolean;
  /** Offsets in the normalized input, for rest-of-line arguments. */
  start: number;
  end: number;
}

export class TokenizeError extends Error {
  constructor(
    readonly code: 'unclosedQuote' | 'tooManyTokens',
    readonly position: number,
  ) {
    super(code);
  }
}

export const MAX_TOKENS = 256;

/**
 * Splits a command line on whitespace with shell-like quoting, but never runs anything:
 * "double quotes" with backslash escapes, 'single quotes' taken literally, a backslash
 * escaping the next character outside quotes, and quotes inside a word (`--note="a b"`).
 * `:`, `=`, URLs and times are ordinary characters.
 */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  const n = input.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(input.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    // Fast path: a token without quotes or backslashes is a plain slice of the input.
    while (i < n && !isSpace(input.charCodeAt(i)) && !isQuoteOrEscape(input.charCodeAt(i))) i++;
    let value = input.slice(start, i);
    let quoted = false;
    if (i < n && !isSpace(input.charCodeAt(i))) {
      // Quotes or escapes: the token is put together from runs of the input (slices), never
      // a character at a time, so a long quoted or escaped token costs one pass.
      let run = i;
      while (i < n && !isSpace(input.charCodeAt(i))) {
        const ch = input.charAt(i);
        if (ch === '"' || ch === "'") {
          value += input.slice(run, i);
          quoted = true;
          const close = ch;
          const open = i;
          i++;
          run = i;
          while (i < n && input[i] !== close) {
            if (close === '"' && input[i] === '\\' && i + 1 < n) {
              value += input.slice(run, i);
              // The escaped character starts the next run.
              run = i + 1;
              i += 2;
              continue;
            }
            i++;
          }
          if (i >= n) throw new TokenizeError('unclosedQuote', open);
          value += input.slice(run, i);
          i++;
          run = i;
        } else if (ch === '\\' && i + 1 < n) {
          value += input.slice(run, i);
          run = i + 1;
          i += 2;
        } else i++;
      }
      value += input.slice(run, i);
    }
    tokens.push({ value, quoted, start, end: i });
    if (tokens.length > MAX_TOKENS) throw new TokenizeError('tooManyTokens', start);
  }
  return tokens;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function isQuoteOrEscape(c: number): boolean {
  return c === 0x22 || c === 0x27 || c === 0x5c;
}
