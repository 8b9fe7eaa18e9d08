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
  /**
   * Invocations that failed or reported failed messages (`result="error"`): a failed message without a delay of its
   * own comes back only after its queue's visibility timeout. Absent when none.
   */
  failed?: number;
}

export interface TmcMetricsSnapshot {
  lambda: Record<string, LambdaUsage>;
  /** queue → messages enqueued by tmc's functions. */
  enqueued: Record<string, number>;
  /** `<net>:<what>` → repairs made by a safety net ({@link SAFETY_NET_ACTIONS}); absent when none. */
  safetyNet: Record<string, number>;
  /**
   * status-up's messages by outcome (`tmc_status_updates_total`): `held` counts the refreshes that wrote nothing because
   * another cluster's report was on its way, each of which a later refresh wrote from the stored `STATUS` item.
   */
  statusUpdates: Record<string, number>;
}

/**
 * The recovery sweep's actions that repair an object the primary path should have carried (a placement or sync message
 * never sent or lost, a copy that drifted or went missing, a status never reported). Failover, cleanup, orphans and the
 * dead-letter and deletion-gate bookkeeping answer to faults or deletes, not to a straggler, and are not counted.
 */
const SAFETY_NET_ACTIONS = new Set(['resync-unplaced', 'resync-unsynced', 'resync-stuck', 'resync-partial', 'drift']);

export async function tmcMetricsSnapshot(metrics: PromMetrics): Promise<TmcMetricsSnapshot> {
  const lambda: Record<string, LambdaUsage> = {};
  const enqueued: Record<string, number> = {};
  const safetyNet: Record<string, number> = {};
  const statusUpdates: Record<string, number> = {};
  const entry = (fn: string): LambdaUsage => (lambda[fn] ??= { invocations: 0, durationSeconds: 0 });
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    for (const value of metric.values) {
      const fn = value.labels.function;
      const queue = value.labels.queue;
      if (metric.name === 'tmc_messages_enqueued_total' && typeof queue === 'string')
        enqueued[queue] = (enqueued[queue] ?? 0) + value.value;
      const action = value.labels.action;
      if (metric.name === 'tmc_recovery_actions_total' && typeof action === 'string' && SAFETY_NET_ACTIONS.has(action))
        safetyNet[`recovery-sweep:${action}`] = (safetyNet[`recovery-sweep:${action}`] ?? 0) + value.value;
      if (metric.name === 'tmc_status_backstop_repairs_total')
        safetyNet[`status-backstop:${String(value.labels.found)}`] =
          (safetyNet[`status-backstop:${String(value.labels.found)}`] ?? 0) + value.value;
      const result = value.labels.result;
      if (metric.name === 'tmc_status_updates_total' && typeof result === 'string')
        statusUpdates[result] = (statusUpdates[result] ?? 0) + value.value;
      if (typeof fn !== 'string') continue;
      if (metric.name === 'tmc_function_invocations_total') {
        entry(fn).invocations += value.value;
        if (value.labels.result === 'error') entry(fn).failed = (entry(fn).failed ?? 0) + value.value;
      }
      if (
        metric.name === 'tmc_function_duration_seconds' &&
        'metricName' in value &&
        value.metricName === 'tmc_function_duration_seconds_sum'
      )
        entry(fn).durationSeconds += value.value;
    }
  }
  return { lambda, enqueued, safetyNet, statusUpdates };
}

export function tmcMetricsDelta(before: TmcMetricsSnapshot, after: TmcMetricsSnapshot): TmcMetricsSnapshot {
  const lambda: Record<string, LambdaUsage> = {};
  for (const [fn, a] of Object.entries(after.lambda)) {
    const b = before.lambda[fn] ?? { invocations: 0, durationSeconds: 0 };
    const invocations = a.invocations - b.invocations;
    const failed = (a.failed ?? 0) - (b.failed ?? 0);
    if (invocations > 0)
      lambda[fn] = {
        invocations,
        durationSeconds: Math.round((a.durationSeconds - b.durationSeconds) * 1000) / 1000,
        ...(failed > 0 ? { failed } : {}),
      };
  }
  return {
    lambda,
    enqueued: countsDelta(before.enqueued, after.enqueued),
    safetyNet: countsDelta(before.safetyNet, after.safetyNet),
    statusUpdates: countsDelta(before.statusUpdates, after.statusUpdates),
  };
}

/** What each counter grew by between two snapshots; counters that did not grow are left out. */
export function countsDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(after)) {
    const d = n - (before[key] ?? 0);
    if (d > 0) out[key] = d;
  }
  return out;
}
