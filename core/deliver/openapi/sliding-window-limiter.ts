/**
 * At most `limit` acquisitions in any `windowMs` interval (a sliding log).
 *
 * DingTalk throttles per app and API in one-second windows whose alignment a client cannot
 * know. A token bucket (e.g. the `limiter` package) admits bucket + refill calls into one
 * such window (up to twice the rate), so it would either trip DingTalk or halve throughput;
 * a sliding log never exceeds the limit in any window, at the full rate.
 */
export class SlidingWindowLimiter {
  private readonly stamps: number[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly limit: number,
    private readonly windowMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until one more call would be allowed (0 = now). */
  waitTime(): number {
    const t = this.now();
    for (
      let oldest = this.stamps[0];
      oldest !== undefined && oldest <= t - this.windowMs;
      oldest = this.stamps[0]
    )
      this.stamps.shift();
    const oldest = this.stamps[0];
    return oldest === undefined || this.stamps.length < this.limit ? 0 : oldest + this.windowMs - t;
  }

  /** Resolves when the call may proceed; callers are served in order. */
  acquire(): Promise<void> {
    const next = this.chain.then(async () => {
      for (let w = this.waitTime(); w > 0; w = this.waitTime()) await new Promise((r) => setTimeout(r, w));
      this.stamps.push(this.now());
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
