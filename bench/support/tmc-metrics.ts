import type { PromMetrics } from '../../lib/metrics/prom-metrics';

/**
 * What tmc's own metrics say a phase cost, as the difference of two snapshots of the stack's registry: invocations
 * and summed duration per function (`tmc_function_invocations_total`, `tmc_function_duration_seconds`, recorded
 * around every handler) and messages enqueued per queue (`tmc_messages_enqueued_total`). Locally every function
 * shares two cores with the emulators and the simulator, so durations are an upper bound of what Lambda (one
 * invocation per execution environment) would bill.
 */

export interface LambdaUsage {
  invocations: number;
  durationSeconds: number;
}

export interface TmcMetricsSnapshot {
  lambda: Record<string, LambdaUsage>;
  /** queue → messages enqueued by tmc's functions. */
  enqueued: Record<string, number>;
}

export async function tmcMetricsSnapshot(metrics: PromMetrics): Promise<TmcMetricsSnapshot> {
  const lambda: Record<string, LambdaUsage> = {};
  const enqueued: Record<string, number> = {};
  const entry = (fn: string): LambdaUsage => (lambda[fn] ??= { invocations: 0, durationSeconds: 0 });
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    for (const value of metric.values) {
      const fn = value.labels.function;
      const queue = value.labels.queue;
      if (metric.name === 'tmc_messages_enqueued_total' && typeof queue === 'string')
        enqueued[queue] = (enqueued[queue] ?? 0) + value.value;
      if (typeof fn !== 'string') continue;
      if (metric.name === 'tmc_function_invocations_total') entry(fn).invocations += value.value;
      if (
        metric.name === 'tmc_function_duration_seconds' &&
        'metricName' in value &&
        value.metricName === 'tmc_function_duration_seconds_sum'
      )
        entry(fn).durationSeconds += value.value;
    }
  }
  return { lambda, enqueued };
}

export function tmcMetricsDelta(before: TmcMetricsSnapshot, after: TmcMetricsSnapshot): TmcMetricsSnapshot {
  const lambda: Record<string, LambdaUsage> = {};
  for (const [fn, a] of Object.entries(after.lambda)) {
    const b = before.lambda[fn] ?? { invocations: 0, durationSeconds: 0 };
    const invocations = a.invocations - b.invocations;
    if (invocations > 0)
      lambda[fn] = { invocations, durationSeconds: Math.round((a.durationSeconds - b.durationSeconds) * 1000) / 1000 };
  }
  const enqueued: Record<string, number> = {};
  for (const [queue, n] of Object.entries(after.enqueued)) {
    const d = n - (before.enqueued[queue] ?? 0);
    if (d > 0) enqueued[queue] = d;
  }
  return { lambda, enqueued };
}
