import type { MetricLabels } from '../ports/telemetry';

/**
 * Which observations become CloudWatch custom metrics. CloudWatch bills every metric (name + dimension set) for each
 * hour it receives a value, so an idle stack that re-sends the same gauges every minute pays for each of them all
 * month. The rule: a gauge is sent while it shows a problem (any value outside its quiet set) and whenever it
 * changes; a quiet, unchanged gauge is not sent. Alarms read only problem values (they keep arriving every run) and
 * treat missing data as not breaching, which is what quiet means. Prometheus (remote-write) still gets every value.
 */

/** Gauges whose every value is quiet: counts of things that are fine (the default quiet value is 0). */
const QUIET_AT_ANY_VALUE: ReadonlyArray<{ name: string; labels: MetricLabels }> = [
  { name: 'tmc_clusters', labels: { state: 'Healthy' } },
  { name: 'tmc_objects', labels: { state: 'applied' } },
];

/** A gauge value that shows nothing wrong: 0 (closed circuit, Healthy cluster, empty queue), or a count of fine things. */
export function isQuietGauge(name: string, labels: MetricLabels, value: number): boolean {
  if (value === 0) return true;
  return QUIET_AT_ANY_VALUE.some((q) => q.name === name && Object.entries(q.labels).every(([k, v]) => labels[k] === v));
}

/**
 * Observations Lambda already publishes for free in `AWS/Lambda` (Invocations, Duration): a successful invocation and
 * its duration are not sent again as custom metrics. A failed one is (`result=error` includes SQS batches with
 * partial failures and HTTP 5xx answers, which Lambda's Errors does not count).
 */
export function isLambdaBuiltIn(name: string, labels: MetricLabels): boolean {
  if (name === 'tmc_function_duration_seconds') return true;
  return name === 'tmc_function_invocations_total' && labels.result === 'ok';
}
