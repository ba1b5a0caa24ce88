import { describe, expect, it } from 'vitest';
import { StormWatch } from '../../../plugins/alerts/storm-watch.js';

describe('StormWatch', () => {
  it('warns once when a minute holds more than the limit, again only after a quiet minute', () => {
    let now = 1_000_000;
    const watch = new StormWatch(100, () => now);
    expect(watch.add(60)).toBeUndefined();
    now += 10_000;
    expect(watch.add(50)).toBe(110);
    now += 1_000;
    expect(watch.add(50)).toBeUndefined(); // still the same storm
    now += 120_000;
    expect(watch.add(1)).toBeUndefined(); // the storm's counts are gone
    now += 1_000;
    expect(watch.add(150)).toBe(151); // a new storm after a quiet minute
  });

  it('forgets what is older than a minute', () => {
    let now = 5_000_000;
    const watch = new StormWatch(100, () => now);
    expect(watch.add(90)).toBeUndefined();
    now += 61_000;
    expect(watch.add(90)).toBeUndefined(); // 90 + 90 only if the first were still counted
    now += 1_000;
    expect(watch.add(11)).toBe(101);
  });

  it('counts many small adds in one second exactly (one-alert webhooks at full speed)', () => {
    let now = 9_000_000;
    const watch = new StormWatch(150_000, () => now);
    const warnings: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      now = 9_000_000 + (i % 1000) / 2; // all within one second
      const w = watch.add(1);
      if (w !== undefined) warnings.push(w);
    }
    expect(warnings).toEqual([150_001]);
  });
});
