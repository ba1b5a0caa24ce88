import { publicUrlProblem } from '../config/public-url.js';
import { CARD_SIGN_WINDOW_MS } from '../receive/http/card-callback-signature.js';
import { ConfigurableDWClient, GatewayError } from '../receive/stream/stream-client.js';
import { isReceiving } from '../receive/transport.js';
import type { CoreCheckDeps } from './check-deps.js';
import type { CheckContext, CheckResult, DiagnosticCheck } from './diagnostics.js';
import { canProbe, probePermission } from './permission-probes.js';

const SKEW_WARN_MS = 60_000;
/** Card callback signatures are accepted within 5 minutes (robot ones within an hour): close to it, clicks start failing. */
const SKEW_ERROR_MS = CARD_SIGN_WINDOW_MS - 60_000;

async function fetchJson(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  return { status: res.status, body, date: res.headers.get('date') };
}

/** The network failure in a few words: `ECONNREFUSED`, `ENOTFOUND`, `UND_ERR_SOCKET (other side closed)`. */
function networkCode(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code?.startsWith('UND_ERR') && cause.message) return `${cause.code} (${cause.message})`;
  return cause?.code ?? ((err as Error).message || 'network error');
}

/** What needs DingTalk: clock, credentials, the connection, permissions. */
export function dingtalkChecks(d: CoreCheckDeps): DiagnosticCheck[] {
  const dt = d.config.core.dingtalk;
  const hasCredentials = Boolean(dt.clientId && dt.clientSecret);
  const host = new URL(dt.apiBase).host;
  const credentialsProbe = (ctx: CheckContext) =>
    ctx.probe('credentials', () =>
      fetchJson(`${dt.apiBase}/v1.0/oauth2/accessToken`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appKey: dt.clientId, appSecret: dt.clientSecret }),
      }),
    );
  return [
    {
      id: 'clock',
      slow: true,
      run: async (ctx) => {
        const { t } = ctx;
        let date: string | null;
        try {
          date = (await credentialsProbe(ctx)).date;
        } catch (err) {
          return {
            id: 'clock',
            severity: 'warn',
            message: t('doctor.clock.unknown', { error: networkCode(err) }),
          };
        }
        if (!date) return { id: 'clock', severity: 'warn', message: t('doctor.clock.noDate') };
        const skew = d.now() - Date.parse(date);
        const seconds = Math.round(Math.abs(skew) / 1000);
        if (Math.abs(skew) < SKEW_WARN_MS)
          return { id: 'clock', severity: 'ok', message: t('doctor.clock.ok', { seconds }) };
        return {
          id: 'clock',
          severity: Math.abs(skew) >= SKEW_ERROR_MS ? 'error' : 'warn',
          message: t('doctor.clock.skew', {
            seconds,
            direction: skew > 0 ? t('doctor.clock.ahead') : t('doctor.clock.behind'),
          }),
          fix: t('doctor.clock.fix'),
        };
      },
    },
    {
      id: 'credentials',
      slow: true,
      run: async (ctx) => {
        const { t } = ctx;
        const where = 'dingtalk.clientId, dingtalk.clientSecret (DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET)';
        if (!hasCredentials)
          return { id: 'credentials', severity: 'warn', message: t('doctor.credentials.none'), where };
        try {
          const r = await credentialsProbe(ctx);
          if (r.status === 200 && r.body?.accessToken)
            return {
              id: 'credentials',
              severity: 'ok',
              message: t('doctor.credentials.ok', { clientId: dt.clientId }),
            };
          if (r.status >= 500)
            return {
              id: 'credentials',
              severity: 'warn',
              message: t('doctor.credentials.server', { status: r.status }),
            };
          return {
            id: 'credentials',
            severity: 'error',
            message: t('doctor.credentials.wrong', { code: String(r.body?.code ?? r.status) }),
            where: `${where}; ${t('doctor.console.credentials')}`,
            fix: t('doctor.credentials.wrongFix'),
          };
        } catch (err) {
          return {
            id: 'credentials',
            severity: 'error',
            message: t('doctor.credentials.network', { host, error: networkCode(err) }),
            where: 'dingtalk.apiBase',
            fix: t('doctor.credentials.networkFix', { host }),
          };
        }
      },
    },
    {
      id: 'connection',
      slow: true,
      run: async (ctx) => {
        if (!hasCredentials) return [];
        return dt.mode === 'http' ? httpConnection(d, ctx) : streamConnection(d, ctx);
      },
    },
    {
      id: 'permissions',
      slow: true,
      run: async (ctx) => {
        const { t } = ctx;
        const api = d.api;
        if (!api || !hasCredentials) return [];
        const seen = d.seenMissing();
        const out: CheckResult[] = [];
        for (const need of d.permissions()) {
          const id = `permissions.${need.scope}`;
          const by = need.by.join(', ');
          const missing = {
            id,
            severity: 'error' as const,
            where: t('doctor.console.permissions'),
            fix: t('doctor.permissions.fix', { scope: need.scope }),
          };
          const past = seen.get(need.scope);
          // A probe says how it is now; without one, DingTalk's past refusals are the evidence.
          if (!canProbe(need.scope)) {
            out.push(
              past
                ? {
                    ...missing,
                    message: t('doctor.permissions.seenMissing', { scope: need.scope, by, api: past.api }),
                  }
                : {
                    id,
                    severity: 'ok',
                    message: t('doctor.permissions.unprobed', { scope: need.scope, by }),
                  },
            );
            continue;
          }
          try {
            const outcome = await ctx.probe(`scope:${need.scope}`, () => probePermission(api, need.scope));
            out.push(
              outcome === 'missing'
                ? { ...missing, message: t('doctor.permissions.missing', { scope: need.scope, by }) }
                : { id, severity: 'ok', message: t('doctor.permissions.ok', { scope: need.scope, by }) },
            );
          } catch (err) {
            out.push({
              id,
              severity: 'warn',
              message: t('doctor.permissions.unknown', { scope: need.scope, error: (err as Error).message }),
            });
          }
        }
        return out;
      },
    },
  ];
}

async function streamConnection(d: CoreCheckDeps, ctx: CheckContext): Promise<CheckResult[]> {
  const { t } = ctx;
  const dt = d.config.core.dingtalk;
  const out: CheckResult[] = [];
  // The same request the Stream transport and `dingops register` make (the SDK client's own).
  const client = new ConfigurableDWClient({
    ...dt,
    subscriptions: [{ type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' }],
  });
  try {
    await ctx.probe('gateway', () => client.getEndpoint());
    out.push({ id: 'connection.gateway', severity: 'ok', message: t('doctor.gateway.ok') });
  } catch (err) {
    if (err instanceof GatewayError)
      out.push({
        id: 'connection.gateway',
        severity: err.status >= 500 ? 'warn' : 'error',
        message: t('doctor.gateway.refused', { status: err.status, detail: err.code || err.message }),
        where: t('doctor.console.stream'),
        fix: t(err.status >= 500 ? 'doctor.gateway.serverFix' : 'doctor.gateway.fix'),
      });
    else
      out.push({
        id: 'connection.gateway',
        severity: 'error',
        message: t('doctor.gateway.network', { error: networkCode(err) }),
        fix: t('doctor.gateway.networkFix'),
      });
  }
  out.push(...transportResults(d, ctx));
  return out;
}

async function httpConnection(d: CoreCheckDeps, ctx: CheckContext): Promise<CheckResult[]> {
  const { t } = ctx;
  const url = d.config.core.server.publicUrl ?? '';
  const out: CheckResult[] = [];
  const problem = publicUrlProblem(url);
  if (problem)
    out.push({ id: 'connection.publicUrl', severity: 'error', message: problem, where: 'server.publicUrl' });
  else if (!url.startsWith('https:'))
    out.push({
      id: 'connection.publicUrl',
      severity: 'warn',
      message: t('doctor.publicUrl.http', { url }),
      where: 'server.publicUrl',
      fix: t('doctor.publicUrl.httpFix'),
    });
  else out.push({ id: 'connection.publicUrl', severity: 'ok', message: t('doctor.publicUrl.ok', { url }) });
  try {
    const r = await ctx.probe(`reach:${url}`, () => fetchJson(`${url.replace(/\/+$/, '')}/healthz`));
    out.push(
      r.status === 200
        ? { id: 'connection.reachable', severity: 'ok', message: t('doctor.reachable.ok', { url }) }
        : {
            id: 'connection.reachable',
            severity: 'error',
            message: t('doctor.reachable.status', { url, status: r.status }),
            fix: t('doctor.reachable.fix'),
          },
    );
  } catch (err) {
    out.push({
      id: 'connection.reachable',
      severity: 'error',
      message: t('doctor.reachable.error', { url, error: networkCode(err) }),
      where: 'server.publicUrl',
      fix: t('doctor.reachable.fix'),
    });
  }
  out.push(...transportResults(d, ctx));
  return out;
}

/** The running bot's connection: state and the last frame or signed callback. */
function transportResults(d: CoreCheckDeps, { t }: CheckContext): CheckResult[] {
  const transports = d.transports();
  if (!transports.length)
    return [{ id: 'connection.state', severity: 'ok', message: t('doctor.state.notRunning') }];
  return transports.map(({ name, state }) => {
    const ago = state.lastFrameAt ? Math.round((d.now() - state.lastFrameAt) / 1000) : undefined;
    const last = ago === undefined ? t('doctor.state.never') : t('doctor.state.ago', { seconds: ago });
    if (isReceiving(state) && state.problem)
      return {
        id: `connection.${name}`,
        severity: 'warn',
        message: t('doctor.state.problem', { name, status: state.status, problem: t(state.problem), last }),
      };
    return isReceiving(state)
      ? {
          id: `connection.${name}`,
          severity: 'ok',
          message: t('doctor.state.ok', { name, status: state.status, last }),
        }
      : {
          id: `connection.${name}`,
          severity: 'error',
          message: t('doctor.state.down', { name, status: state.status, detail: state.detail ?? '', last }),
          fix: t('doctor.state.fix'),
        };
  });
}
