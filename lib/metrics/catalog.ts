/**
 * Every metric tmc emits, with its meaning, unit and labels. Emitting a name not listed here is an error, so the
 * docs (docs/metrics.md), the dashboards and the alarms can be checked against one list.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type MetricUnit = 'count' | 'seconds' | 'bytes' | 'state';

export interface MetricDefinition {
  name: string;
  type: MetricType;
  unit: MetricUnit;
  help: string;
  labels: readonly string[];
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export const HISTOGRAM_BUCKETS: Record<MetricUnit, number[]> = {
  seconds: LATENCY_BUCKETS,
  bytes: [1024, 16384, 131072, 1048576],
  count: [1, 5, 10, 50, 100, 500],
  state: [0, 1, 2, 3],
};

function metric(
  name: string,
  type: MetricType,
  unit: MetricUnit,
  help: string,
  labels: readonly string[] = [],
): MetricDefinition {
  return { name, type, unit, help, labels };
}

export const METRICS = [
  metric(
    'tmc_webhook_requests_total',
    'counter',
    'count',
    'Webhook requests received by ingress, by route and HTTP status code',
    ['route', 'code'],
  ),
  metric('tmc_messages_enqueued_total', 'counter', 'count', 'Messages put on a queue', ['queue']),
  metric(
    'tmc_admission_enqueue_timeouts_total',
    'counter',
    'count',
    'Admission requests answered before their enqueue finished because the queue did not answer in time (fail open; the send goes on after the answer)',
  ),
  metric(
    'tmc_admission_enqueue_late_total',
    'counter',
    'count',
    'Admission enqueues that went on after the webhook answered (a slow or failed first attempt), by how they ended: enqueued, duplicate, or failed (left to the recovery sweep)',
    ['outcome'],
  ),
  metric(
    'tmc_placement_decisions_total',
    'counter',
    'count',
    'Placement decisions recorded (a new or changed decision), by result: scheduled, unschedulable',
    ['result'],
  ),
  metric(
    'tmc_placement_duration_seconds',
    'histogram',
    'seconds',
    'Time placement took for one message (read kcp, decide, record, send sync work), by outcome: placed, unchanged, stale, absent, pending, cluster-updated, cluster-removed, policy-updated',
    ['result'],
  ),
  metric(
    'tmc_sync_operations_total',
    'counter',
    'count',
    'Downstream sync operations by result (applied, unchanged, deleted, failed, conflict, deferred), cluster and resource',
    ['result', 'cluster', 'resource'],
  ),
  metric(
    'tmc_sync_lag_seconds',
    'histogram',
    'seconds',
    'Time from the kcp change reaching tmc to the object applied on the cluster',
    ['cluster'],
  ),
  metric(
    'tmc_status_lag_seconds',
    'histogram',
    'seconds',
    'Time from a downstream status change reaching tmc to the aggregate written in kcp',
  ),
  metric(
    'tmc_status_updates_total',
    'counter',
    'count',
    'Status reconciles by result: written, unchanged, stale, held (written after reports on their way)',
    ['result'],
  ),
  metric(
    'tmc_status_backstop_repairs_total',
    'counter',
    'count',
    'Object·cluster statuses the status backstop brought to kcp because no status message had, by what it found (status: a newer downstream status; missing-copy: a copy gone downstream). 0 when the webhooks carry everything',
    ['found'],
  ),
  metric('tmc_retries_total', 'counter', 'count', 'Messages deferred for retry, by function and error category', [
    'function',
    'category',
  ]),
  metric('tmc_function_invocations_total', 'counter', 'count', 'Function invocations by result (ok, error)', [
    'function',
    'result',
  ]),
  metric('tmc_function_duration_seconds', 'histogram', 'seconds', 'Function invocation duration', ['function']),
  metric('tmc_queue_backlog_messages', 'gauge', 'count', 'Messages visible or in flight on a queue', ['queue']),
  metric('tmc_queue_oldest_message_age_seconds', 'gauge', 'seconds', 'Age of the oldest message on a queue', ['queue']),
  metric('tmc_dlq_messages', 'gauge', 'count', "Messages in a queue's dead-letter queue", ['queue']),
  metric(
    'tmc_dlq_arrivals_total',
    'counter',
    'count',
    "Messages that failed on their last delivery and so moved to the queue's dead-letter queue, counted by the consumer that saw them fail",
    ['queue'],
  ),
  metric('tmc_circuit_state', 'gauge', 'state', "A cluster's circuit breaker: 0 closed, 1 half-open, 2 open", [
    'cluster',
  ]),
  metric(
    'tmc_cluster_health_state',
    'gauge',
    'state',
    "A cluster's health: 0 Healthy, 1 Degraded, 2 Unhealthy, 3 Unknown",
    ['cluster'],
  ),
  metric('tmc_clusters', 'gauge', 'count', 'Registered clusters by health state', ['state']),
  metric('tmc_objects', 'gauge', 'count', 'Object-cluster pairs by sync state (pending, applied, failed, deleting)', [
    'state',
  ]),
  metric(
    'tmc_oldest_pending_sync_seconds',
    'gauge',
    'seconds',
    'Age of the oldest object-cluster pair whose desired state is not yet applied',
  ),
  metric(
    'tmc_remote_write_pushes_total',
    'counter',
    'count',
    'Prometheus remote-write pushes by the metrics rollup, by result (ok, error)',
    ['result'],
  ),
  metric(
    'tmc_recovery_actions_total',
    'counter',
    'count',
    'Recovery actions taken by the sweep, by action (failover, cleanup, resync-stuck, resync-unplaced, resync-unsynced, resync-partial, drift, orphan-delete, dlq-redrive, dlq-park, deletion-hold, deletion-confirm) and outcome (enqueued, sent, succeeded, skipped, held, released, failed, parked)',
    ['action', 'outcome'],
  ),
  metric(
    'tmc_recovery_orphan_deletions_total',
    'counter',
    'count',
    'Downstream copies the orphan sweep deleted because kcp confirmed twice that their source is gone, by cluster and resource',
    ['cluster', 'resource'],
  ),
  metric(
    'tmc_recovery_deletion_holds',
    'gauge',
    'count',
    'Mass-deletion holds by scope: 1 while a hold waits for a person to confirm it, 0 once confirmed',
    ['scope'],
  ),
] as const satisfies readonly MetricDefinition[];

export type MetricName = (typeof METRICS)[number]['name'];

const BY_NAME = new Map<string, MetricDefinition>(METRICS.map((m) => [m.name, m]));

/** The definition of a metric, or an error naming the unknown metric (a typo must not create a new series). */
export function metricDefinition(name: string): MetricDefinition {
  const def = BY_NAME.get(name);
  if (!def) throw new Error(`Unknown metric ${name}: add it to lib/metrics/catalog.ts and docs/metrics.md`);
  return def;
}
