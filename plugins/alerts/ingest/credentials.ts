import { createHmac } from 'node:crypto';
import { sameSecretText } from 'dingops';
import type { SourceConfig } from '../config.js';

/**
 * Checks a request against its source's credential: `Authorization: Bearer <token>`, or a
 * hex HMAC-SHA256 of the raw body (Grafana's scheme: `<timestamp>:<body>` when a timestamp
 * header is configured). Returns why it failed, or undefined when it passed.
 */
export function credentialProblem(
  source: SourceConfig,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string,
): string | undefined {
  const header = (name: string) => headerValue(headers, name);
  if (source.token) {
    const auth = header('authorization');
    if (auth && sameSecretText(auth, `Bearer ${source.token}`)) return undefined;
    if (!source.hmacSecret) return auth ? 'wrong bearer token' : 'missing Authorization: Bearer <token>';
  }
  const secret = source.hmacSecret;
  if (!secret) return 'missing Authorization: Bearer <token>';
  const signature = header(source.signatureHeader);
  if (!signature) return `missing ${source.signatureHeader}`;
  let signed = rawBody;
  if (source.timestampHeader) {
    const ts = header(source.timestampHeader);
    if (!ts) return `missing ${source.timestampHeader}`;
    if (!/^\d{1,16}$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > SIGNATURE_TTL_MS / 2000)
      return `${source.timestampHeader} is more than 5 minutes off`;
    signed = `${ts}:${rawBody}`;
  }
  const expected = createHmac('sha256', secret).update(signed).digest('hex');
  return sameSecretText(canonicalSignature(signature), expected) ? undefined : 'wrong signature';
}

/** A signature as verified: hex, lower case, without the optional `sha256=` prefix. */
function canonicalSignature(signature: string): string {
  return signature
    .trim()
    .toLowerCase()
    .replace(/^sha256=/, '');
}

/** How long a signed request's signature is remembered: twice the timestamp window, so a captured one is refused while it is valid. */
export const SIGNATURE_TTL_MS = 2 * 300_000;

/**
 * A signature over the body alone never goes stale: it verifies for as long as the secret
 * stays the same, so its record is kept as long (ten years stands for "until the secret
 * changes"; a new secret makes every old signature fail anyway). `config check` and `doctor`
 * advise a timestamp header, which bounds both the replay window and the records kept.
 */
export const UNTIMED_SIGNATURE_TTL_MS = 10 * 365 * 86_400_000;

/** How long a source's used signatures must be remembered to refuse every replay of them. */
export function signatureTtlMs(source: SourceConfig): number {
  return source.timestampHeader ? SIGNATURE_TTL_MS : UNTIMED_SIGNATURE_TTL_MS;
}

/**
 * The signature a request was let in by (with its timestamp), when it came by HMAC rather
 * than a bearer token: each is accepted once.
 */
export function usedSignature(
  source: SourceConfig,
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const header = (name: string) => headerValue(headers, name);
  if (!source.hmacSecret) return undefined;
  const auth = header('authorization');
  if (source.token && auth && sameSecretText(auth, `Bearer ${source.token}`)) return undefined;
  const signature = header(source.signatureHeader);
  if (!signature) return undefined;
  // The spelling that verified, so `sha256=<hex>` and `<HEX>` are one signature, not two.
  return `${source.timestampHeader ? header(source.timestampHeader) : ''}:${canonicalSignature(signature)}`;
}

function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
