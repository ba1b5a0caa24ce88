import type { FastCounter } from './fast-metrics.js';

/**
 * Keeps a flood of the same warning (aborted requests, refused callbacks from a scanner)
 * from filling the log: at most `perMinute` lines per kind each minute; the rest are counted
 * in `dingops_log_suppressed_total{kind}`, and the next line that gets through says how many
 * were left out.
 */
export class WarnThrottle {
  private readonly windows = new Map<string, { start: number; logged: number; suppressed: number }>();

  constructor(
    private readonly suppressedCounter: FastCounter,
    private readonly perMinute = 20,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether a warning of this kind may be logged now; when it may, `suppressed` is how many
   * of its kind were left out since the last one logged.
   */
  take(kind: string): { log: boolean; suppressed: number } {
    const now = this.now();
    let w = this.windows.get(kind);
    if (!w || now - w.start >= 60_000) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: now, logged: 0, suppressed: 0 };
      // Kinds are a handful of fixed strings; a bound still keeps the map small.
      if (this.windows.size > 100) this.windows.clear();
      this.windows.set(kind, w);
      w.logged++;
      return { log: true, suppressed };
    }
    if (w.logged < this.perMinute) {
      w.logged++;
      return { log: true, suppressed: 0 };
    }
    w.suppressed++;
    this.suppressedCounter.inc(kind);
    return { log: false, suppressed: 0 };
  }
}
