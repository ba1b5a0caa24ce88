import type { Registry } from 'prom-client';

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * Prometheus metrics for the per-message hot path. prom-client hashes a labels object on
 * every `inc`/`observe`; these keep one series per label-value string in a Map and build
 * the exposition only when scraped. Up to two labels, given positionally.
 */
abstract class FastMetric {
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  protected labelsOf(a?: string, b?: string): Record<string, string> {
    const labels: Record<string, string> = {};
    if (this.labelNames[0] !== undefined) labels[this.labelNames[0]] = a ?? '';
    if (this.labelNames[1] !== undefined) labels[this.labelNames[1]] = b ?? '';
    return labels;
  }

  abstract values(): MetricValue[];
  abstract reset(): void;

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.values(),
    };
  }
}

type Series<T> = Map<string, Map<string, T>>;

/** Finds or creates the series for (a, b) without building a key string. */
function seriesOf<T>(map: Series<T>, a: string, b: string, create: () => T): T {
  let inner = map.get(a);
  if (!inner) {
    inner = new Map();
    map.set(a, inner);
  }
  let s = inner.get(b);
  if (s === undefined) {
    s = create();
    inner.set(b, s);
  }
  return s;
}

function allOf<T>(map: Series<T>): T[] {
  return [...map.values()].flatMap((inner) => [...inner.values()]);
}

export class FastCounter extends FastMetric {
  readonly type = 'counter';
  private readonly series: Series<{ labels: Record<string, string>; value: number }> = new Map();

  inc(a = '', b = '', by = 1): void {
    seriesOf(this.series, a, b, () => ({ labels: this.labelsOf(a, b), value: 0 })).value += by;
  }

  /** Current value of one series (for status lines and tests). */
  value(a = '', b = ''): number {
    return this.series.get(a)?.get(b)?.value ?? 0;
  }

  values(): MetricValue[] {
    return allOf(this.series).map((s) => ({ labels: s.labels, value: s.value }));
  }

  reset(): void {
    this.series.clear();
  }
}

interface HistogramSeries {
  labels: Record<string, string>;
  counts: Float64Array;
  sum: number;
  count: number;
}

export class FastHistogram extends FastMetric {
  readonly type = 'histogram';
  private readonly series: Series<HistogramSeries> = new Map();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    registry: Registry,
    private readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames, registry);
  }

  observe(value: number, a = '', b = ''): void {
    const s = seriesOf(this.series, a, b, () => ({
      labels: this.labelsOf(a, b),
      counts: new Float64Array(this.buckets.length),
      sum: 0,
      count: 0,
    }));
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] ?? Number.POSITIVE_INFINITY)) {
        s.counts[i] = (s.counts[i] ?? 0) + 1;
        break;
      }
    }
    s.sum += value;
    s.count++;
  }

  values(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const s of allOf(this.series)) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i] ?? 0;
        out.push({ labels: { ...s.labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      out.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      out.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      out.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return out;
  }

  reset(): void {
    this.series.clear();
  }
}
