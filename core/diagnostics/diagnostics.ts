import type { I18n, Locale } from '../i18n/i18n.js';
import { token } from '../util/di-token.js';
import type { Disposer } from '../util/disposer.js';

export type CheckSeverity = 'ok' | 'warn' | 'error';

/** One finding: what was checked, how it stands, where to look, what to do. */
export interface CheckResult {
  /** `credentials`, `permissions.Card.Streaming.Write`, `people.Dave`, ... */
  id: string;
  severity: CheckSeverity;
  message: string;
  /** The config path or DingTalk console page involved. */
  where?: string;
  fix?: string;
}

export interface CheckContext {
  /** Core and plugin messages in the bot's locale (full keys). */
  t(key: string, vars?: Record<string, unknown>): string;
  /**
   * A cached probe: a success is reused for 10 minutes, a failure for 1 minute (unless the
   * run is `fresh`), so diagnostics cost almost nothing from the monthly API quota.
   */
  probe<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export interface DiagnosticCheck {
  id: string;
  /** Network or API probes: run after the quick checks. */
  slow?: boolean;
  run(ctx: CheckContext): Promise<CheckResult | CheckResult[]> | CheckResult | CheckResult[];
}

const OK_TTL_MS = 10 * 60_000;
const FAILURE_TTL_MS = 60_000;
const CHECK_TIMEOUT_MS = 15_000;

/**
 * The bot's self-diagnosis (`doctor`): checks registered by the core and by plugins, run on
 * demand only (never on a timer). A check that crashes or hangs becomes an error result
 * instead of ending the run; slow checks run after the quick ones.
 */
export class Diagnostics {
  private checks: Array<{ owner: string; check: DiagnosticCheck }> = [];
  private readonly cache = new Map<string, { until: number; ok: boolean; value: unknown }>();
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly i18n: I18n,
    private readonly locale: Locale,
    private readonly now: () => number = Date.now,
  ) {}

  private readonly missing = new Map<string, { api: string; at: number }>();

  /** Remembers scopes DingTalk said were missing (its `requiredScopes`), for the permission check. */
  noteMissingScopes(api: string, scopes: string[]): void {
    for (const scope of scopes) this.missing.set(scope, { api, at: this.now() });
  }

  missingScopes(): ReadonlyMap<string, { api: string; at: number }> {
    return this.missing;
  }

  register(owner: string, check: DiagnosticCheck): Disposer {
    if (this.checks.some((c) => c.check.id === check.id))
      throw new Error(`diagnostic check '${check.id}' exists`);
    const entry = { owner, check };
    this.checks.push(entry);
    return () => {
      this.checks = this.checks.filter((c) => c !== entry);
    };
  }

  /** Runs every check (or those whose id starts with one of `only`); results in registration order. */
  async run(options: { only?: string[]; fresh?: boolean; locale?: Locale } = {}): Promise<CheckResult[]> {
    const chosen = this.checks.filter(
      ({ check }) =>
        !options.only?.length || options.only.some((o) => check.id === o || check.id.startsWith(`${o}.`)),
    );
    const ctx: CheckContext = {
      t: (key, vars) => this.i18n.t(key, vars, options.locale ?? this.locale),
      probe: (key, fn) => this.probe(key, fn, options.fresh === true),
    };
    const results = new Map<DiagnosticCheck, CheckResult[]>();
    for (const slow of [false, true])
      await Promise.all(
        chosen
          .filter(({ check }) => (check.slow === true) === slow)
          .map(async ({ check }) => results.set(check, await this.runOne(check, ctx))),
      );
    return chosen.flatMap(({ check }) => results.get(check) ?? []);
  }

  private async runOne(check: DiagnosticCheck, ctx: CheckContext): Promise<CheckResult[]> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        Promise.resolve(check.run(ctx)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(ctx.t('doctor.timedOut'))), CHECK_TIMEOUT_MS);
          timer.unref();
        }),
      ]);
      return Array.isArray(r) ? r : [r];
    } catch (err) {
      return [
        {
          id: check.id,
          severity: 'error',
          message: ctx.t('doctor.crashed', { error: err instanceof Error ? err.message : String(err) }),
        },
      ];
    } finally {
      clearTimeout(timer);
    }
  }

  private async probe<T>(key: string, fn: () => Promise<T>, fresh: boolean): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && !fresh && hit.until > this.now()) {
      if (hit.ok) return hit.value as T;
      throw hit.value;
    }
    // Two checks asking for the same probe at once share one call.
    const pending = this.inflight.get(key);
    if (pending) return pending as Promise<T>;
    const run = this.probeNow(key, fn).finally(() => this.inflight.delete(key));
    this.inflight.set(key, run);
    return run;
  }

  private async probeNow<T>(key: string, fn: () => Promise<T>): Promise<T> {
    try {
      const value = await fn();
      this.cache.set(key, { until: this.now() + OK_TTL_MS, ok: true, value });
      return value;
    } catch (err) {
      this.cache.set(key, { until: this.now() + FAILURE_TTL_MS, ok: false, value: err });
      throw err;
    }
  }
}

/** 0 when everything is ok, 1 with warnings, 2 with errors (the CLI's exit code). */
export function exitCodeOf(results: CheckResult[]): number {
  if (results.some((r) => r.severity === 'error')) return 2;
  return results.some((r) => r.severity === 'warn') ? 1 : 0;
}

const MARK: Record<CheckSeverity, string> = { ok: '✓', warn: '!', error: '✗' };
const ICON: Record<CheckSeverity, string> = { ok: '✅', warn: '⚠️', error: '❌' };

/** One result as a chat line (markdown): icon, id, message, then where and fix when not ok. */
export function checkLine(r: CheckResult, t: (k: string) => string): string {
  const head = `${ICON[r.severity]} \`${r.id}\` ${r.message}`;
  if (r.severity === 'ok') return head;
  return [
    head,
    r.where ? `${t('doctor.where')}: \`${r.where}\`` : '',
    r.fix ? `${t('doctor.fix')}: ${r.fix}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** Terminal text: `[✓] id  message` with `where:` and `fix:` lines, then a summary line. */
export function formatResults(
  results: CheckResult[],
  t: (k: string, v?: Record<string, unknown>) => string,
): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`[${MARK[r.severity]}] ${r.id}  ${r.message}`);
    if (r.where && r.severity !== 'ok') lines.push(`    ${t('doctor.where')}: ${r.where}`);
    if (r.fix && r.severity !== 'ok') lines.push(`    ${t('doctor.fix')}: ${r.fix}`);
  }
  const errors = results.filter((r) => r.severity === 'error').length;
  const warnings = results.filter((r) => r.severity === 'warn').length;
  lines.push('', errors || warnings ? t('doctor.summary', { errors, warnings }) : t('doctor.allGood'));
  return lines.join('\n');
}

/** `--json`: a stable shape for scripts. */
export function resultsJson(results: CheckResult[]): string {
  return JSON.stringify({ schemaVersion: 1, exitCode: exitCodeOf(results), checks: results }, null, 2);
}

/** The DI token of the Diagnostics. */
export const DiagnosticsToken = token<Diagnostics>('Diagnostics');
