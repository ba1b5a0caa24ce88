/**
 * Knows the secret values of this process (client secret, AES key, tokens, webhook
 * tokens) and removes them from any text before it is logged, stored or shown.
 * Value-based redaction catches secrets that path-based redaction cannot: a secret
 * embedded in an error message, a URL or a command argument.
 */
export class SecretRedactor {
  private values: string[] = [];
  private pattern: RegExp | undefined;

  static readonly MASK = '***';

  /** Registers secret values; very short values are ignored (they would mask ordinary words). */
  add(...secrets: Array<string | undefined | null>): void {
    for (const s of secrets) {
      if (typeof s !== 'string' || s.length < 6) continue;
      // Also the JSON-escaped form, so a secret is found inside serialized JSON text.
      for (const v of new Set([s, JSON.stringify(s).slice(1, -1)]))
        if (!this.values.includes(v)) this.values.push(v);
    }
    this.values.sort((a, b) => b.length - a.length);
    this.pattern = this.values.length
      ? new RegExp(this.values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
      : undefined;
  }

  get size(): number {
    return this.values.length;
  }

  redact(text: string): string {
    let out = this.pattern ? text.replace(this.pattern, SecretRedactor.MASK) : text;
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
  out = out.replace(
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
    '[private key redacted]',
  );
  return out;
}
