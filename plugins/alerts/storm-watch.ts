/**
 * Notices an alert storm: more than `perMinute` alerts accepted within a minute. Says so
 * once per storm (again only after a quiet minute), so the warning is not a storm itself.
 */
export class StormWatch {
  /**
   * Alerts accepted per second of the last minute, oldest first, and their sum: at most 61
   * slots however busy the webhook, so each add costs the same (one slot per request made a
   * busy minute quadratic).
   */
  private readonly slots: Array<{ second: number; count: number }> = [];
  private total = 0;
  private warnedAt: number | undefined;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records accepted alerts; returns the minute's count when a warning is due. */
  add(count: number): number | undefined {
    const now = this.now();
    const second = Math.floor(now / 1000);
    const last = this.slots[this.slots.length - 1];
    if (last?.second === second) last.count += count;
    else this.slots.push({ second, count });
    this.total += count;
    for (let s = this.slots[0]; s && s.second <= second - 60; s = this.slots[0]) {
      this.total -= s.count;
      this.slots.shift();
    }
    const total = this.total;
    if (total <= this.perMinute) {
      if (this.warnedAt !== undefined && now - this.warnedAt > 60_000) this.warnedAt = undefined;
      return undefined;
    }
    if (this.warnedAt !== undefined) {
      this.warnedAt = now;
      return undefined;
    }
    this.warnedAt = now;
    return total;
  }
}
