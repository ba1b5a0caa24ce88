/**
 * Every path that reads untrusted text runs in linear time: the same hostile input at
 * 100 KB and at 1 MB may take about 10x as long, not 100x. A ratio, not a wall-clock bound,
 * so a busy machine does not decide it; each size takes the best of a few runs.
 */
export function ratio(make: (size: number) => string, work: (text: string) => unknown): number {
  // The small input runs 10 times per measurement, so both sides take about as long and a
  // garbage collection or a timer tick weighs the same on each.
  const best = (size: number, times: number) => {
    const text = make(size);
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      for (let j = 0; j < times; j++) work(text);
      min = Math.min(min, (performance.now() - t0) / times);
    }
    return Math.max(min, 0.01);
  };
  best(10_000, 10); // warm up the code paths and their regexes
  // The ratio itself measured up to three times, the lowest kept: a neighbour's burst of work
  // (another test file, a collection) can inflate one measurement, never all three alike;
  // quadratic code stays near 100 in every one of them.
  let lowest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3 && lowest >= LINEAR; round++)
    lowest = Math.min(lowest, best(1_000_000, 1) / best(100_000, 10));
  return lowest;
}

/** Linear would be about 10; quadratic about 100. */
export const LINEAR = 35;

export const repeat = (unit: string) => (size: number) =>
  unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
