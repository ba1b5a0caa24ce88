import { token } from './di-token.js';
/**
 * Knows the secret values of this process (client secret, AES key, tokens, webhook
 * tokens) and removes them from any text before it is logged, stored or shown.
 * Value-based redaction catches secrets that path-based redaction cannot: a secret
 * embedded in an error message, a URL or a command argument.
 */
export class SecretRedactor {
  private values: string[] = [];
  /** Secrets short enough to be ordinary words (`dingops`): masked only where they stand as values. */
  private short: string[] = [];
  private pattern: RegExp | undefined;
  private shortPattern: RegExp | undefined;

  static readonly MASK = '***';
  /** A secret shorter than this could be a word of the text: it is masked as a value only. */
  static readonly WORD_LIKE = 12;

  /**
   * Registers secret values. Under {@link SecretRedactor.WORD_LIKE} characters a secret is masked
   * only where it stands as a value; under 6 it is ignored (it would mask parts of words).
   */
  add(...secrets: Array<string | undefined | null>): void {
    for (const s of secrets) {
      if (typeof s !== 'string' || s.length < 6) continue;
      const into = s.length < SecretRedactor.WORD_LIKE ? this.short : this.values;
      // Also the JSON-escaped form, so a secret is found inside serialized JSON text.
      for (const v of new Set([s, JSON.stringify(s).slice(1, -1)])) if (!into.includes(v)) into.push(v);
    }
    this.values.sort((a, b) => b.length - a.length);
    this.short.sort((a, b) => b.length - a.length);
    this.pattern = this.values.length ? new RegExp(this.values.map(escapeRegExp).join('|'), 'g') : undefined;
    // As a value: after `=` or `:` (a quote or spaces between), and up to a quote, `@`, `&`,
    // a separator or the end: `password=dingops`, `"password":"dingops"`, `//user:dingops@host`.
    // Never in running text (`dingops ready`).
    this.shortPattern = this.short.length
      ? new RegExp(
          `(?<=[=:]\\s{0,2}["']?)(?:${this.short.map(escapeRegExp).join('|')})(?=["'@&\\s,;)\\]}]|$)`,
          'g',
        )
      : undefined;
  }

  get size(): number {
    return this.values.length + this.short.length;
  }

  /** The length of the longest secret: text streamed in pieces holds back one less than this. */
  get longest(): number {
    return this.values[0]?.length ?? 0;
  }

  /** A redactor that knows these secrets and the extra ones (this one is left as it is). */
  with(...secrets: Array<string | undefined | null>): SecretRedactor {
    const copy = new SecretRedactor();
    copy.add(...this.values, ...this.short, ...secrets);
    return copy;
  }

  /** How many characters at the end of `text` could be the start of a secret still to come. */
  openSecret(text: string): number {
    let held = 0;
    for (const v of this.values)
      for (let k = Math.min(v.length - 1, text.length); k > held; k--)
        if (text.endsWith(v.slice(0, k))) {
          held = k;
          break;
        }
    return held;
  }

  /** The latest place at or before `at` where `text` can be cut without cutting a secret in two. */
  safeCut(text: string, at: number): number {
    const re = this.pattern;
    if (!re || at <= 0) return at;
    re.lastIndex = Math.max(0, at - this.longest);
    for (let m = re.exec(text); m && m.index < at; m = re.exec(text))
      if (m.index + m[0].length > at) return m.index;
    return at;
  }

  /**
   * Masks the end of a text that was cut off in the middle of a secret (an output limit):
   * a tail that is the first half or more of a secret (at least 4 characters) is replaced.
   */
  redactCutSecret(text: string): string {
    let cut = -1;
    for (const v of this.values) {
      const from = Math.max(4, Math.ceil(v.length / 2));
      for (let k = Math.min(v.length - 1, text.length); k >= from; k--)
        if (text.endsWith(v.slice(0, k))) {
          cut = Math.max(cut, k);
          break;
        }
    }
    return cut > 0 ? text.slice(0, text.length - cut) + SecretRedactor.MASK : text;
  }

  redact(text: string): string {
    let out = this.pattern ? text.replace(this.pattern, SecretRedactor.MASK) : text;
    if (this.shortPattern) out = out.replace(this.shortPattern, SecretRedactor.MASK);
    out = redactCommonTokens(out);
    return out;
  }

  /** Deep copy of a JSON-like value with every string redacted. */
  redactDeep<T>(value: T, depth = 0): T {
    if (depth > 8) return value;
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v, depth + 1)) as T;
    if (value && typeof value === 'object' && !(value instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        out[k] =
          SECRET_KEY.test(k) && typeof v === 'string' && v
            ? SecretRedactor.MASK
            : this.redactDeep(v, depth + 1);
      }
      return out as T;
    }
    return value;
  }
}

function escapeRegExp(v: string): string {
  return v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Keys whose values are secret whatever they contain. */
export const SECRET_KEY = /secret|password|passwd|token|aeskey|aes_key|apikey|api_key|authorization|^sign$/i;

const COMMON_TOKENS: RegExp[] = [
  // Query parameters that carry credentials (webhook URLs, legacy access_token).
  /([?&](?:access_token|token|session|sign|secret|key)=)[^&\s"']+/gi,
  // Bearer tokens in headers pasted into text.
  /(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/g,
  // Well-known key formats: GitHub, Slack, AWS access keys, private key blocks.
  /\b(gh[pousr]_)[A-Za-z0-9]{20,}/g,
  /\b(xox[abprs]-)[A-Za-z0-9-]{10,}/g,
  /\b(AKIA)[0-9A-Z]{16}\b/g,
];

/** Cheap test for anything a token pattern could match, so ordinary text skips the regexes. */
const MAYBE_TOKEN = /(?:token|session|sign|secret|key)=|Bearer|gh[pousr]_|xox|AKIA|PRIVATE KEY/i;

export function redactCommonTokens(text: string): string {
  if (!MAYBE_TOKEN.test(text)) return text;
  let out = text;
  for (const re of COMMON_TOKENS) out = out.replace(re, `$1${SecretRedactor.MASK}`);
  return redactPrivateKeys(out);
}

export const PRIVATE_KEY_MARK = '[private key redacted]';
const KEY_BEGIN = /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----/g;
const KEY_END = /-----END [A-Z ]{0,40}PRIVATE KEY-----/g;

/**
 * Private key blocks, from BEGIN to the next END, become one mark; a block with no END
 * is redacted to the end of the text. Linear: each marker is found once, scanning forward
 * (a lazy `BEGIN[\s\S]*?END` regex rescans the rest of the text from every BEGIN).
 */
export function redactPrivateKeys(text: string): string {
  if (!text.includes('PRIVATE KEY-----')) return text;
  let out = '';
  let from = 0;
  for (;;) {
    KEY_BEGIN.lastIndex = from;
    const begin = KEY_BEGIN.exec(text);
    if (!begin) return out + text.slice(from);
    KEY_END.lastIndex = begin.index + begin[0].length;
    const end = KEY_END.exec(text);
    out += text.slice(from, begin.index) + PRIVATE_KEY_MARK;
    if (!end) return out;
    from = end.index + end[0].length;
  }
}

/** Where an unfinished private key block starts (a BEGIN with no END after it), or -1. */
export function openPrivateKey(text: string): number {
  if (!text.includes('PRIVATE KEY-----')) return -1;
  let from = 0;
  for (;;) {
    KEY_BEGIN.lastIndex = from;
    const begin = KEY_BEGIN.exec(text);
    if (!begin) return -1;
    const end = privateKeyEnd(text, begin.index + begin[0].length);
    if (end < 0) return begin.index;
    from = end;
  }
}

/** The end of the first private key block's END marker at or after `from`, or -1. */
export function privateKeyEnd(text: string, from = 0): number {
  KEY_END.lastIndex = from;
  const end = KEY_END.exec(text);
  return end ? end.index + end[0].length : -1;
}

/** The DI token of the SecretRedactor. */
export const RedactorToken = token<SecretRedactor>('Redactor');
