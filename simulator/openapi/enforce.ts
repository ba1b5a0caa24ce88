import type { IncomingMessage } from 'node:http';
import { type ApiError, errors, type LegacyError, legacyErrors } from '../errors.js';
import type { SimApp } from '../org/org.js';
import type { SimState } from '../state.js';

/** Which credential style an endpoint uses (docs/dingtalk-protocol.md §5.1). */
export type ApiStyle = 'new' | 'legacy';

export interface CallContext {
  app: SimApp;
  style: ApiStyle;
}

/**
 * Authenticates an OpenAPI call like DingTalk does: the new API wants the
 * `x-acs-dingtalk-access-token` header (a query parameter is rejected), the legacy API
 * the `access_token` query parameter. Then the scope, per-app QPS, and the monthly quota.
 */
export function authenticate(state: SimState, req: IncomingMessage, url: URL, style: ApiStyle): SimApp {
  const token =
    style === 'new' ? req.headers['x-acs-dingtalk-access-token'] : url.searchParams.get('access_token');
  if (!token || Array.isArray(token)) {
    if (style === 'legacy') throw legacyErrors.blankToken();
    throw errors.missingToken();
  }
  const t = state.tokens.get(token);
  if (!t || t.expiresAt < Date.now())
    throw style === 'new' ? errors.invalidToken() : legacyErrors.invalidToken();
  const app = state.app(t.app);
  // A token outlives no app: apps are never removed from a running simulator.
  if (!app) throw style === 'new' ? errors.invalidToken() : legacyErrors.invalidToken();
  return app;
}

export function requireScope(app: SimApp, scope: string, style: ApiStyle): void {
  if (!app.scopes.includes(scope))
    throw style === 'new' ? errors.permission(scope) : legacyErrors.permission(scope);
}

/** Per app, per API, one-second windows (DingTalk: 20 QPS for the standard edition). */
export class QpsLimiter {
  private readonly windows = new Map<string, { second: number; count: number }>();

  check(app: SimApp, api: string, style: ApiStyle): void {
    const key = `${app.clientId} ${api}`;
    const second = Math.floor(Date.now() / 1000);
    const w = this.windows.get(key);
    if (!w || w.second !== second) {
      this.windows.set(key, { second, count: 1 });
      return;
    }
    w.count++;
    if (w.count > app.qps) throw style === 'new' ? errors.qps() : legacyErrors.qps();
  }
}

/** Metered APIs count against the org's monthly quota; tokens and the gateway do not. */
export function meter(state: SimState, app: SimApp, style: ApiStyle): void {
  const used = state.monthly.get(app.clientId) ?? 0;
  if (used >= app.monthlyQuota)
    throw style === 'new' ? errors.monthly(used + 1, app.monthlyQuota) : legacyErrors.monthly();
  state.monthly.set(app.clientId, used + 1);
}

/** Injected faults for tests: forced throttling, 5xx, 504 after latency. */
export function injectedFault(
  state: SimState,
  path: string,
  style: ApiStyle,
): ApiError | LegacyError | undefined {
  const f = state.faults;
  if (f.pathFilter && !path.includes(f.pathFilter)) return undefined;
  if (f.throttleNext > 0) {
    f.throttleNext--;
    return style === 'new' ? errors.qps() : legacyErrors.qps();
  }
  if (f.failNext > 0) {
    f.failNext--;
    return errors.internal();
  }
  if (f.timeoutRate > 0 && Math.random() < f.timeoutRate) return errors.timeout();
  if (f.errorRate > 0 && Math.random() < f.errorRate) return errors.internal();
  return undefined;
}
