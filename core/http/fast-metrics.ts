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

export class FastCounter extends FastMetric {
  readonly type = 'counter';
  private readonly series = new Map<string, { labels: Record<string, string>; value: number }>();

  inc(a?: string, b?: string, by = 1): void {
    const key = b === undefined ? (a ?? '') : `${a}\u0001${b}`;
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels: this.labelsOf(a, b), value: by });
  }

  /** Current value of one series (for status lines and tests). */
  value(a?: string, b?: string): number {
    return this.series.get(b === undefined ? (a ?? '') : `${a}\u0001${b}`)?.value ?? 0;
  }

  values(): MetricValue[] {
    return [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value }));
  }

  reset(): void {
    this.series.clear();
  }
}

export class FastHistogram extends FastMetric {
  readonly type = 'histogram';
  private readonly series = new Map<
    string,
    { labels: Record<string, string>; counts: Float64Array; sum: number; count: number }
  >();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    registry: Registry,
    private readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames, registry);
  }

  observe(value: number, a?: string, b?: string): void {
    const key = b === undefined ? (a ?? '') : `${a}\u0001${b}`;
    let s = this.series.get(key);
    if (!s) {
      s = { labels: this.labelsOf(a, b), counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]!) {
        s.counts[i]!++;
        break;
      }
    }
    s.sum += value;
    s.count++;
  }

  values(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
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
