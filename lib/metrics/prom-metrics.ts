import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricLabels, Metrics } from '../ports/telemetry';
import { HISTOGRAM_BUCKETS, metricDefinition } from './catalog';

type PromMetric = Counter<string> | Gauge<string> | Histogram<string>;

/**
 * Metrics held in a Prometheus registry (prom-client): the local stack serves them at /metrics and pushes them by
 * remote-write. Series are created on first use from the catalog.
 */
export class PromMetrics implements Metrics {
  readonly registry: Registry;
  private readonly series = new Map<string, PromMetric>();

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
  }

  increment(name: string, labels: MetricLabels = {}, value = 1): void {
    (this.metric(name, 'counter') as Counter<string>).inc(labels, value);
  }

  observe(name: string, labels: MetricLabels, value: number): void {
    (this.metric(name, 'histogram') as Histogram<string>).observe(labels, value);
  }

  gauge(name: string, labels: MetricLabels, value: number): void {
    (this.metric(name, 'gauge') as Gauge<string>).set(labels, value);
  }

  /** Forgets every label set of a gauge, so a snapshot that no longer names a cluster does not keep its old value. */
  resetGauge(name: string): void {
    const existing = this.series.get(name);
    if (existing !== undefined && metricDefinition(name).type === 'gauge') existing.reset();
  }

  /** Prometheus text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  private metric(name: string, type: 'counter' | 'gauge' | 'histogram'): PromMetric {
    const existing = this.series.get(name);
    if (existing) return existing;
    const def = metricDefinition(name);
    if (def.type !== type) throw new Error(`Metric ${name} is a ${def.type}, not a ${type}`);
    const config = { name, help: def.help, labelNames: [...def.labels], registers: [this.registry] };
    const created: PromMetric =
      type === 'counter'
        ? new Counter(config)
        : type === 'gauge'
          ? new Gauge(config)
          : new Histogram({ ...config, buckets: HISTOGRAM_BUCKETS[def.unit] });
    this.series.set(name, created);
    return created;
  }
}
