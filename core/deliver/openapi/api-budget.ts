import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { CoreTables } from '../../storage/core-tables.js';
import type { KeyValueStore } from '../../storage/kv-store.js';
import { token } from '../../util/di-token.js';

export interface BudgetSnapshot {
  month: string;
  used: number;
  limit: number;
  /** Linear projection of this month's use at month end. */
  projected: number;
  /** DingTalk itself refused calls this month for the quota (whatever `used` says). */
  exhausted: boolean;
}

/**
 * Counts metered DingTalk API calls this month against the edition's quota. The count is one
 * number in the store (`api_usage`): every few seconds each replica adds what it counted and
 * reads back the total, so restarts and replicas share it. Crossing 80 % and 95 % warns once
 * per month (per replica that sees it cross first; the thresholds warned are stored): in the
 * log, in metrics, and through `onWarning` (the bot tells the admins).
 */
export class ApiBudget {
  private month = '';
  private used = 0;
  private unsaved = 0;
  private warned = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private readonly gauge: Gauge;
  onWarning: (threshold: number, s: BudgetSnapshot) => void = () => undefined;

  constructor(
    private readonly db: Kysely<CoreTables>,
    /** Where counts were kept before `api_usage` (read once per month, to carry them over). */
    private readonly legacy: KeyValueStore,
    readonly limit: number,
    private readonly log: Logger,
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    this.gauge = new Gauge({
      name: 'dingops_api_calls_month',
      help: 'Metered DingTalk API calls this month (the quota is dingtalk.limits.monthlyCalls)',
      registers: [registry],
    });
  }

  private monthOf(t: number): string {
    return new Date(t).toISOString().slice(0, 7);
  }

  async start(): Promise<void> {
    await this.load(this.monthOf(this.now()));
    this.timer = setInterval(() => void this.save(), 5_000);
    this.timer.unref();
  }

  private async load(month: string): Promise<void> {
    let row = await this.db.selectFrom('api_usage').selectAll().where('month', '=', month).executeTakeFirst();
    if (!row) {
      const old = await this.legacy.get<{ used: number; warned: number[] }>(`api-usage:${month}`);
      await this.db
        .insertInto('api_usage')
        .values({ month, used: old?.used ?? 0, warned: (old?.warned ?? []).join(',') })
        .onConflict((oc) => oc.column('month').doNothing())
        .execute();
      row = await this.db.selectFrom('api_usage').selectAll().where('month', '=', month).executeTakeFirst();
    }
    this.month = month;
    this.used = Number(row?.used ?? 0);
    this.warned = parseWarned(row?.warned);
    this.unsaved = 0;
    this.gauge.set(this.used);
  }

  /** Counts one metered call. */
  count(): void {
    const month = this.monthOf(this.now());
    if (month !== this.month) {
      // A new month: start from zero; what the old one still had unsaved is added to it.
      if (this.unsaved) void this.save();
      this.month = month;
      this.used = 0;
      this.warned = new Set();
    }
    this.used++;
    this.unsaved++;
    this.gauge.set(this.used);
    for (const threshold of [0.8, 0.95]) {
      if (this.used >= this.limit * threshold && !this.warned.has(threshold)) {
        this.warned.add(threshold);
        const s = this.snapshot();
        this.log.warn(
          { used: s.used, limit: s.limit, projected: s.projected },
          `DingTalk API use passed ${threshold * 100}% of the monthly quota`,
        );
        this.onWarning(threshold, s);
        void this.save();
      }
    }
  }

  /**
   * DingTalk refused a call because the month's quota is used up, whatever our count says (the
   * edition's quota may be lower than `dingtalk.limits.monthlyCalls`): warned once a month, as
   * the 100% threshold, so the admins hear it once and not on every refused call.
   */
  exhausted(): void {
    if (this.warned.has(1)) return;
    this.warned.add(1);
    const s = this.snapshot();
    this.log.error(
      { used: s.used, limit: s.limit },
      'DingTalk refused a call: the monthly API quota of the organisation is used up (calls fail until next month)',
    );
    this.onWarning(1, s);
    void this.save();
  }

  snapshot(): BudgetSnapshot {
    const t = new Date(this.now());
    const start = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1);
    const end = Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 1);
    const elapsed = Math.max(this.now() - start, 3_600_000);
    return {
      month: this.month,
      used: this.used,
      limit: this.limit,
      projected: Math.round((this.used * (end - start)) / elapsed),
      exhausted: this.warned.has(1),
    };
  }

  /**
   * Saves the count. Saves run one after another (each writes the count current when it
   * runs), so an older value never overwrites a newer one and `stop` can wait for all.
   */
  save(): Promise<void> {
    const month = this.month;
    this.saving = this.saving.then(async () => {
      if (!month) return;
      const pending = month === this.month ? this.unsaved : 0;
      if (month === this.month) this.unsaved = 0;
      const warned = [...this.warned].sort().join(',');
      try {
        // Adds this replica's calls to the shared total, and reads the total back.
        const { rows } = await sql<{ used: number; warned: string }>`
          insert into api_usage (month, used, warned) values (${month}, ${pending}, ${warned})
          on conflict (month) do update set used = api_usage.used + excluded.used
          returning used, warned`.execute(this.db);
        const row = rows[0];
        if (!row || month !== this.month) return;
        const stored = parseWarned(row.warned);
        for (const t of stored) this.warned.add(t);
        if (stored.size < this.warned.size)
          await this.db
            .updateTable('api_usage')
            .set({ warned: [...this.warned].sort().join(',') })
            .where('month', '=', month)
            .execute();
        // Calls counted while this ran are still unsaved, on top of the total.
        this.used = Number(row.used) + this.unsaved;
        this.gauge.set(this.used);
      } catch (err) {
        if (month === this.month) this.unsaved += pending;
        this.log.error({ err }, 'saving the API call count failed');
      }
    });
    return this.saving;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.save();
  }
}

/** The DI token of the ApiBudget. */
export const ApiBudgetToken = token<ApiBudget>('ApiBudget');

function parseWarned(text: string | undefined): Set<number> {
  return new Set(
    (text ?? '')
      .split(',')
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isFinite(n)),
  );
}
