import { Metrics as PowertoolsMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricLabels, Metrics } from '../ports/telemetry';
import { type MetricUnit as TmcUnit, metricDefinition } from './catalog';
import { isLambdaBuiltIn, isQuietGauge } from './emf-policy';

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

/** Writes one group of metrics (one EMF document); the default prints it through Powertools. */
export type EmfPublish = (
  labels: MetricLabels,
  values: ReadonlyArray<{ name: string; unit: CloudWatchUnit; value: number }>,
) => void;

/**
 * Metrics for Lambda: CloudWatch Embedded Metric Format through Powertools. Labels become dimensions. EMF puts one
 * dimension set in each log line, so observations are grouped by label set during an invocation and each group is
 * written once by `flush()` (counters summed, histogram observations kept as a list: CloudWatch computes percentiles).
 * What is sent follows lib/metrics/emf-policy.ts: gauges on change or while they show a problem, and nothing Lambda
 * publishes itself. The last value sent of each gauge is remembered for the container's life; a new container sends a
 * quiet gauge only once it changes.
 */
export class EmfMetrics implements Metrics {
  private readonly pending = new Map<string, Pending>();
  private readonly lastSeen = new Map<string, number>();
  private readonly publish: EmfPublish;

  constructor(namespace: string, serviceName: string, publish?: EmfPublish) {
    this.publish =
      publish ??
      ((labels, values): void => {
        const out = new PowertoolsMetrics({ namespace, serviceName });
        if (Object.keys(labels).length > 0) out.addDimensions(labels);
        for (const v of values) out.addMetric(v.name, v.unit, v.value);
        out.publishStoredMetrics();
      });
  }

  increment(name: string, labels: MetricLabels = {}, value = 1): void {
    const def = metricDefinition(name);
    if (isLambdaBuiltIn(name, labels)) return;
    const group = this.group(labels);
    const existing = group.values.find((v) => v.name === name);
    if (existing && def.type === 'counter') existing.value += value;
    else group.values.push({ name, unit: UNITS[def.unit], value });
  }

  observe(name: string, labels: MetricLabels, value: number): void {
    const unit = UNITS[metricDefinition(name).unit];
    if (isLambdaBuiltIn(name, labels)) return;
    this.group(labels).values.push({ name, unit, value });
  }

  gauge(name: string, labels: MetricLabels, value: number): void {
    metricDefinition(name);
    const series = `${name}${seriesKey(labels)}`;
    const last = this.lastSeen.get(series);
    const changed = last !== undefined && last !== value;
    this.lastSeen.set(series, value);
    if (!changed && isQuietGauge(name, labels, value)) return;
    const group = this.group(labels);
    group.values = group.values.filter((v) => v.name !== name);
    group.values.push({ name, unit: UNITS[metricDefinition(name).unit], value });
  }

  /** Writes everything recorded since the last flush; call at the end of each invocation. */
  flush(): void {
    for (const { labels, values } of this.pending.values()) if (values.length > 0) this.publish(labels, values);
    this.pending.clear();
  }

  private group(labels: MetricLabels): Pending {
    const key = seriesKey(labels);
    let group = this.pending.get(key);
    if (!group) {
      group = { labels, values: [] };
      this.pending.set(key, group);
    }
    return group;
  }
}

function seriesKey(labels: MetricLabels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}
