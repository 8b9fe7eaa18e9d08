import type { HealthState } from '../health/cluster-health';
import type { MetricLabels, Metrics } from '../ports/telemetry';
import type { MetricName } from './catalog';

/**
 * metrics-rollup's use case: the gauges that need state (clusters by health, objects by sync state, the oldest
 * pending sync, queue backlog and DLQ depth, circuit states), computed from indexed reads of the table and from SQS
 * attributes, then published through the Metrics port. See docs/metrics.md ("The rollup") for why these reads are
 * indexed Queries and not counters kept by the writers.
 */

export type SyncState = 'pending' | 'applied' | 'failed' | 'conflict' | 'deleting';
export type CircuitState = 'closed' | 'half-open' | 'open';

/**
 * The gauges the rollup computes from the table and the queues. In the cloud only the rollup pushes them to
 * Prometheus (a function that also sets one, health-probe's clusters by state, would be counted twice by `sum`).
 */
export const ROLLUP_GAUGES: ReadonlySet<string> = new Set<string>([
  'tmc_cluster_health_state',
  'tmc_clusters',
  'tmc_objects',
  'tmc_oldest_pending_sync_seconds',
  'tmc_circuit_state',
  'tmc_queue_backlog_messages',
  'tmc_dlq_messages',
] satisfies MetricName[]);

/** The sync states an object-cluster pair is counted under; `deleted` tombstones are not objects any more. */
export const SYNC_STATES: readonly SyncState[] = ['pending', 'applied', 'failed', 'conflict', 'deleting'];
/** States whose desired object is not (yet) on the cluster: they count towards the oldest pending sync. */
const NOT_APPLIED: ReadonlySet<string> = new Set(['pending', 'failed', 'conflict']);
const HEALTH_STATES: readonly HealthState[] = ['Healthy', 'Degraded', 'Unhealthy', 'Unknown'];
const HEALTH_GAUGE: Record<HealthState, number> = { Healthy: 0, Degraded: 1, Unhealthy: 2, Unknown: 3 };
const CIRCUIT_GAUGE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** One sync item as the census needs it: its state and when it last changed. */
export interface SyncStateSample {
  state: string;
  updatedAt: string;
}

export interface QueueDepth {
  queue: string;
  visible: number;
  inFlight: number;
  delayed: number;
  dlq: number;
  /** Seconds; only where the source knows it (see SqsQueueDepths). */
  oldestMessageAgeSeconds?: number;
}

/** Whether the queue holds any message: waiting, being handled (in flight) or delayed. */
export function holdsMessages(q: QueueDepth): boolean {
  return q.visible + q.inFlight + q.delayed > 0;
}

/** What the rollup reads. The DynamoDB and SQS adapters live next to this file; tests pass fakes. */
export interface RollupSources {
  /**
   * Every cluster's health item (one Query on gsi1 `HEALTH`), as a reader should see it at `now`: a cluster nobody
   * has probed for a while is Unknown, not its last stored state (lib/health/rules.ts, clusterVerdictAt).
   */
  clusterHealth(now: number): Promise<Array<{ cluster: string; state: HealthState }>>;
  /** Clusters known to the SyncTarget mirror (gsi1 `CLUSTERS`). */
  knownClusters(): Promise<string[]>;
  /** The sync items on one cluster (gsi1 `CLUSTER#<name>`), projected to state and updatedAt. */
  syncStates(cluster: string): Promise<SyncStateSample[]>;
  /** The circuit's state, or undefined when the cluster never had one (closed). */
  circuit(cluster: string): Promise<CircuitState | undefined>;
  queueDepths(): Promise<QueueDepth[]>;
}

export interface GaugeSample {
  name: MetricName;
  labels: MetricLabels;
  value: number;
}

/** What one rollup run read: the sources' answers, with sync samples and circuits in `clusters` order. */
export interface RollupReadings {
  health: Array<{ cluster: string; state: HealthState }>;
  mirrored: string[];
  queues: QueueDepth[];
  /** Every cluster, probed or mirrored, sorted. */
  clusters: string[];
  syncs: SyncStateSample[][];
  circuits: Array<CircuitState | undefined>;
}

/**
 * How long a census of the sync items is reused while nothing is queued (docs/metrics.md, "The rollup"): a change
 * that settles between two runs without a queue seeing it (a pull-mode syncer's write through the virtual workspace)
 * is counted within this, in time for the sync-lag alarm's two 5-minute periods.
 */
export const CENSUS_MAX_AGE_MS = 5 * 60_000;

/**
 * The last census of sync items, kept by the rollup's container. Reading every sync item of every cluster each minute
 * was what an idle stack's rollup paid for; a sync item moves only while its work is queued, so an idle stack reuses
 * the census it took (see `censusStillValid`).
 */
export interface CensusMemory {
  last?: { at: number; clusters: string[]; syncs: SyncStateSample[][]; queues: QueueDepth[] };
}

function settled(queues: readonly QueueDepth[]): boolean {
  return !queues.some(holdsMessages);
}

/**
 * A census may be reused when it is younger than CENSUS_MAX_AGE_MS, the clusters are the same, it found every pair
 * applied (a pending or failed pair needs its age and state every run, for the sync-lag alarm), and no queue held
 * work then or now, with the same DLQ depths. A change enqueued and settled entirely between two runs is counted by
 * the next census at the latest; the oldest pending sync cannot be missed that way (it was applied).
 */
function censusStillValid(
  last: NonNullable<CensusMemory['last']>,
  clusters: readonly string[],
  queues: readonly QueueDepth[],
  now: number,
): boolean {
  const dlqs = (qs: readonly QueueDepth[]): string => JSON.stringify(qs.map((q) => [q.queue, q.dlq]).sort());
  return (
    now - last.at < CENSUS_MAX_AGE_MS &&
    JSON.stringify(last.clusters) === JSON.stringify(clusters) &&
    last.syncs.every((samples) => samples.every((s) => s.state === 'applied')) &&
    settled(last.queues) &&
    settled(queues) &&
    dlqs(last.queues) === dlqs(queues)
  );
}

/**
 * Computes every stateful gauge once. Pure over its sources and `census`: the same table gives the same snapshot.
 * With `census`, the sync items are read only when the last census may be out of date.
 */
export async function computeRollup(
  sources: RollupSources,
  now: number = Date.now(),
  census?: CensusMemory,
): Promise<GaugeSample[]> {
  const [health, mirrored, queues] = await Promise.all([
    sources.clusterHealth(now),
    sources.knownClusters(),
    sources.queueDepths(),
  ]);
  const clusters = [...new Set([...health.map((h) => h.cluster), ...mirrored])].sort();
  const reuse = census?.last !== undefined && censusStillValid(census.last, clusters, queues, now);
  const [syncs, circuits] = await Promise.all([
    reuse && census.last ? census.last.syncs : Promise.all(clusters.map((c) => sources.syncStates(c))),
    Promise.all(clusters.map((c) => sources.circuit(c))),
  ]);
  if (census !== undefined && !reuse) census.last = { at: now, clusters, syncs, queues };
  return rollupSnapshot({ health, mirrored, queues, clusters, syncs, circuits }, now);
}

/** The gauges of one set of readings (pure). */
export function rollupSnapshot(readings: RollupReadings, now: number): GaugeSample[] {
  const { health, mirrored, queues, clusters, syncs, circuits } = readings;
  const out: GaugeSample[] = [];

  const byHealth = Object.fromEntries(HEALTH_STATES.map((s) => [s, 0])) as Record<HealthState, number>;
  for (const { cluster, state } of health) {
    byHealth[state] += 1;
    out.push({ name: 'tmc_cluster_health_state', labels: { cluster }, value: HEALTH_GAUGE[state] });
  }
  // A mirrored cluster that was never probed is Unknown, not absent: a dashboard must show it.
  const probed = new Set(health.map((h) => h.cluster));
  for (const cluster of mirrored.filter((c) => !probed.has(c))) {
    byHealth.Unknown += 1;
    out.push({ name: 'tmc_cluster_health_state', labels: { cluster }, value: HEALTH_GAUGE.Unknown });
  }
  for (const state of HEALTH_STATES) out.push({ name: 'tmc_clusters', labels: { state }, value: byHealth[state] });

  const byState = Object.fromEntries(SYNC_STATES.map((s) => [s, 0])) as Record<SyncState, number>;
  let oldest: number | undefined;
  for (const sample of syncs.flat()) {
    if (sample.state in byState) byState[sample.state as SyncState] += 1;
    if (NOT_APPLIED.has(sample.state)) {
      const at = Date.parse(sample.updatedAt);
      if (Number.isFinite(at) && (oldest === undefined || at < oldest)) oldest = at;
    }
  }
  for (const state of SYNC_STATES) out.push({ name: 'tmc_objects', labels: { state }, value: byState[state] });
  out.push({
    name: 'tmc_oldest_pending_sync_seconds',
    labels: {},
    value: oldest === undefined ? 0 : Math.max(0, (now - oldest) / 1000),
  });

  clusters.forEach((cluster, i) =>
    out.push({ name: 'tmc_circuit_state', labels: { cluster }, value: CIRCUIT_GAUGE[circuits[i] ?? 'closed'] }),
  );

  for (const q of queues) {
    out.push({
      name: 'tmc_queue_backlog_messages',
      labels: { queue: q.queue },
      value: q.visible + q.inFlight + q.delayed,
    });
    out.push({ name: 'tmc_dlq_messages', labels: { queue: q.queue }, value: q.dlq });
    if (q.oldestMessageAgeSeconds !== undefined) {
      out.push({
        name: 'tmc_queue_oldest_message_age_seconds',
        labels: { queue: q.queue },
        value: q.oldestMessageAgeSeconds,
      });
    }
  }
  return out;
}

/** Sets each gauge of a snapshot on a Metrics. */
export function publishGauges(snapshot: readonly GaugeSample[], metrics: Metrics): void {
  for (const g of snapshot) metrics.gauge(g.name, g.labels, g.value);
}
