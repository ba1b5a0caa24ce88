import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { KeyValueStore } from '../../storage/kv-store.js';
import { token } from '../../util/di-token.js';

export interface BudgetSnapshot {
  month: string;
  used: number;
  limit: number;
  /** Linear projection of this month's use at month end. */
  projected: number;
}

/**
 * Counts metered DingTalk API calls this month against the edition's quota. The count is
 * kept in the store (flushed every few seconds, so restarts and replicas keep it roughly
 * right), and crossing 80 % and 95 % warns once per month: in the log, in metrics, and
 * through `onWarning` (the bot tells the admins).
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
    private readonly kv: KeyValueStore,
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
    const saved = await this.kv.get<{ used: number; warned: number[] }>(`api-usage:${month}`);
    this.month = month;
    this.used = saved?.used ?? 0;
    this.warned = new Set(saved?.warned ?? []);
    this.unsaved = 0;
    this.gauge.set(this.used);
  }

  /** Counts one metered call. */
  count(): void {
    const month = this.monthOf(this.now());
    if (month !== this.month) {
      // A new month: start from zero (the previous month's count is already saved).
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
    };
  }

  /**
   * Saves the count. Saves run one after another (each writes the count current when it
   * runs), so an older value never overwrites a newer one and `stop` can wait for all.
   */
  save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      if (!this.unsaved && this.month) return;
      const pending = this.unsaved;
      this.unsaved = 0;
      try {
        await this.kv.set(`api-usage:${this.month}`, { used: this.used, warned: [...this.warned] });
      } catch (err) {
        this.unsaved += pending;
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
