/**
 * Notices an alert storm: more than `perMinute` alerts accepted within a minute. Says so
 * once per storm (again only after a quiet minute), so the warning is not a storm itself.
 */
export class StormWatch {
  private readonly buckets: Array<{ at: number; count: number }> = [];
  private warnedAt: number | undefined;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records accepted alerts; returns the minute's count when a warning is due. */
  add(count: number): number | undefined {
    const now = this.now();
    this.buckets.push({ at: now, count });
    for (let b = this.buckets[0]; b && b.at <= now - 60_000; b = this.buckets[0]) this.buckets.shift();
    const total = this.buckets.reduce((s, b) => s + b.count, 0);
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
