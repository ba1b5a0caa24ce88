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

/** Classifies a legacy-API body `{errcode, errmsg, sub_code}` (HTTP 200). */
export function classifyLegacy(api: string, body: JsonBody): DingTalkApiError {
  const errcode = Number(body?.errcode);
  const sub = String(body?.sub_code ?? '');
  const message = String(body?.sub_msg || body?.errmsg || 'unknown error');
  const scopes = stringsOf(body?.requiredScopes);
  let kind: ApiErrorKind;
  if ([90018, 90002, 90006, 90005, 90019, 660026].includes(errcode)) kind = 'throttled';
  else if (errcode === 90020) kind = 'quota';
  else if (errcode === 60011 || scopes.length) kind = 'permission';
  else if ([40014, 42001, 40096, 40089].includes(errcode) || ['40014', '40000', '42001'].includes(sub))
    kind = 'auth';
  else if (errcode === 300001 || errcode === 300005) kind = 'gone';
  else if (errcode === 15 || (errcode === 88 && !sub) || errcode === -1) kind = 'transient';
  else kind = 'invalid';
  return new DingTalkApiError(kind, api, String(errcode), message, 200, scopes);
}

/** The strings of a list in an error body (a scope list of another shape is no scope list). */
function stringsOf(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
