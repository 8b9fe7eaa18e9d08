import { Metrics as PowertoolsMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricLabels, Metrics } from '../ports/telemetry';
import { type MetricUnit as TmcUnit, metricDefinition } from './catalog';

type CloudWatchUnit = (typeof MetricUnit)[keyof typeof MetricUnit];

const UNITS: Record<TmcUnit, CloudWatchUnit> = {
  count: MetricUnit.Count,
  seconds: MetricUnit.Seconds,
  bytes: MetricUnit.Bytes,
  state: MetricUnit.NoUnit,
};

interface Pending {
  labels: MetricLabels;
  values: Array<{ name: string; unit: CloudWatchUnit; value: number }>;
}

/**
 * Metrics for Lambda: CloudWatch Embedded Metric Format through Powertools. Labels become dimensions. EMF puts one
 * dimension set in each log line, so observations are grouped by label set during an invocation and each group is
 * written once by `flush()` (counters summed, histogram observations kept as a list: CloudWatch computes percentiles).
 */
export class EmfMetrics implements Metrics {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly namespace: string,
    private readonly serviceName: string,
  ) {}

  increment(name: string, labels: MetricLabels = {}, value = 1): void {
    const def = metricDefinition(name);
    const group = this.group(labels);
    const existing = group.values.find((v) => v.name === name);
    if (existing && def.type === 'counter') existing.value += value;
    else group.values.push({ name, unit: UNITS[def.unit], value });
  }

  observe(name: string, labels: MetricLabels, value: number): void {
    this.group(labels).values.push({ name, unit: UNITS[metricDefinition(name).unit], value });
  }

  gauge(name: string, labels: MetricLabels, value: number): void {
    const group = this.group(labels);
    group.values = group.values.filter((v) => v.name !== name);
    group.values.push({ name, unit: UNITS[metricDefinition(name).unit], value });
  }

  /** Writes everything recorded since the last flush; call at the end of each invocation. */
  flush(): void {
    for (const { labels, values } of this.pending.values()) {
      const out = new PowertoolsMetrics({ namespace: this.namespace, serviceName: this.serviceName });
      if (Object.keys(labels).length > 0) out.addDimensions(labels);
      for (const v of values) out.addMetric(v.name, v.unit, v.value);
      out.publishStoredMetrics();
    }
    this.pending.clear();
  }

  private group(labels: MetricLabels): Pending {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    let group = this.pending.get(key);
    if (!group) {
      group = { labels, values: [] };
      this.pending.set(key, group);
    }
    return group;
  }
}
