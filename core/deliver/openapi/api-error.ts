import type { JsonBody } from '../../util/http-json.js';
/** What kind of failure a DingTalk API call had, so callers and diagnostics know what to do. */
export type ApiErrorKind =
  /** Too many calls (QPS): retry after a short wait. */
  | 'throttled'
  /** The monthly API quota of the organisation is used up: no retry helps until next month. */
  | 'quota'
  /** The app lacks a permission scope (`requiredScopes` says which). */
  | 'permission'
  /** Wrong credentials or token. */
  | 'auth'
  /** The request itself is wrong (bad parameter, unknown group, too large). */
  | 'invalid'
  /** Network trouble, 5xx, 504: retry with backoff. */
  | 'transient'
  /** A sessionWebhook that expired or does not exist. */
  | 'gone';

export class DingTalkApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    readonly api: string,
    /** DingTalk's code (`Forbidden.AccessDenied...`, or a legacy errcode as a string). */
    readonly code: string,
    message: string,
    readonly status?: number,
    readonly requiredScopes: string[] = [],
  ) {
    super(`${api}: ${code ? `${code}: ` : ''}${message}`);
    this.name = 'DingTalkApiError';
  }

  get retryable(): boolean {
    return this.kind === 'throttled' || this.kind === 'transient';
  }
}

/** Classifies a new-API error body `{code, message, accessdenieddetail}` with its HTTP status. */
export function classifyNewApi(api: string, status: number, body: JsonBody): DingTalkApiError {
  const code = String(body?.code ?? '');
  const message = String(body?.message ?? `HTTP ${status}`);
  const detail = body?.accessdenieddetail;
  const scopes = stringsOf(
    typeof detail === 'object' && detail !== null ? (detail as JsonBody)?.requiredScopes : undefined,
  );
  let kind: ApiErrorKind;
  if (/QpsLimit|send\.too\.fast|tooFast|Throttl/i.test(code)) kind = 'throttled';
  else if (/ApiCountLimitForOrg/.test(code)) kind = 'quota';
  else if (/PermissionDenied/.test(code) || scopes.length) kind = 'permission';
  else if (/InvalidAuthentication|AuthenticationFailed|invalidClientIdOrSecret/i.test(code)) kind = 'auth';
  else if (status >= 500 || status === 429 || !code) kind = status === 429 ? 'throttled' : 'transient';
  else kind = 'invalid';
  return new DingTalkApiError(kind, api, code, message, status, scopes);
}

/** Legacy codes that mean "too many calls" (docs/dingtalk-protocol.md §6.2): retry later, within the QPS budget. */
const LEGACY_THROTTLED = new Set([90002, 90005, 90006, 90018, 90019, 660026]);
/** The organisation's monthly call quota is used up: retrying does not help until next month. */
const LEGACY_QUOTA = new Set([90020]);
const LEGACY_AUTH = new Set([40014, 42001, 40096, 40089, 40000]);

/**
 * Classifies a legacy-API body `{errcode, errmsg, sub_code}` (HTTP 200). The gateway wraps many
 * failures in errcode 88 and names the real one in `sub_code` (or only in the errmsg text,
 * `ding talk error[subcode=90018,...]`): the class follows the sub code, so a throttled
 * scene-group call is retried, not dead-lettered as invalid (docs/dingtalk-protocol.md §6.1).
 */
export function classifyLegacy(api: string, body: JsonBody): DingTalkApiError {
  const errcode = Number(body?.errcode);
  const errmsg = String(body?.errmsg ?? '');
  const sub = String(body?.sub_code ?? body?.subcode ?? '') || (/subcode=(\d+)/.exec(errmsg)?.[1] ?? '');
  const message = String(body?.sub_msg || errmsg || 'unknown error');
  const scopes = stringsOf(body?.requiredScopes);
  // The code that says what happened: the sub code under the gateway's 88, else errcode.
  const code = errcode === 88 && /^\d+$/.test(sub) ? Number(sub) : errcode;
  let kind: ApiErrorKind;
  if (LEGACY_THROTTLED.has(code)) kind = 'throttled';
  else if (LEGACY_QUOTA.has(code)) kind = 'quota';
  else if (code === 60011 || scopes.length) kind = 'permission';
  else if (LEGACY_AUTH.has(code)) kind = 'auth';
  else if (code === 300001 || code === 300005) kind = 'gone';
  else if (code === 15 || (errcode === 88 && !sub) || code === -1) kind = 'transient';
  else kind = 'invalid';
  return new DingTalkApiError(
    kind,
    api,
    sub && errcode === 88 ? `88/${sub}` : String(errcode),
    message,
    200,
    scopes,
  );
}

/** The strings of a list in an error body (a scope list of another shape is no scope list). */
function stringsOf(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
