import type { ClusterStatusRecord } from '../../ports/status-store';
import type { SyncRecord } from '../../ports/sync-state-store';
import { numberField } from './status-fields';

/** Kinds whose controllers report every new generation in `status.observedGeneration` (Kubernetes' own do). */
export const REPORTING_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

/** How long after an apply its cluster's report of the new generation counts as on its way. */
export const REPORT_EXPECTED_WITHIN_MS = 30_000;
/** How long after a copy reported a rollout in progress its next report (pods ready) counts as on its way. */
export const PROGRESS_EXPECTED_WITHIN_MS = 10_000;

export interface AwaitedReportsInput {
  kind: string;
  /** The kcp object's metadata.generation. */
  generation: number | undefined;
  /** The clusters of the decision. */
  placed: readonly string[];
  syncOf: ReadonlyMap<string, SyncRecord>;
  observedOf: ReadonlyMap<string, ClusterStatusRecord>;
  /** Replicas each copy should run (its share, or spec.replicas when Duplicated); undefined when unknown. */
  desiredReplicas: (cluster: string) => number | undefined;
  now: number;
}

function within(at: string | undefined, windowMs: number, now: number): boolean {
  const t = at === undefined ? Number.NaN : Date.parse(at);
  return !Number.isNaN(t) && now - t < windowMs;
}

/** A copy's own status says its rollout is not done: fewer ready (or updated) pods than it should run. */
function rollingOut(status: Record<string, unknown>, desired: number | undefined): boolean {
  if (typeof status.desiredNumberScheduled === 'number')
    return numberField(status, 'numberReady') < status.desiredNumberScheduled;
  if (desired === undefined || desired <= 0) return false;
  return numberField(status, 'readyReplicas') < desired || numberField(status, 'updatedReplicas') < desired;
}

/**
 * The placed clusters whose next apply or report is on its way, so a refresh writing kcp now would be followed by
 * another write moments later. Any kind: an apply of the object's current generation not yet recorded (no sync item,
 * or one pending without an error, or applied at an older generation). For {@link REPORTING_KINDS} also: an apply
 * recorded in the last {@link REPORT_EXPECTED_WITHIN_MS} whose downstream generation the cluster has not reported yet
 * (its controller answers every new generation); a copy that reported its rollout in progress in the last
 * {@link PROGRESS_EXPECTED_WITHIN_MS}. A failed or conflicting pair awaits nothing. "On its way" is a guess that can
 * be wrong (a lost message or webhook call): whoever defers on it must come back by itself.
 */
export function awaitedReports(input: AwaitedReportsInput): string[] {
  return input.placed.filter((cluster) => {
    const record = input.syncOf.get(cluster);
    if (!record) return true;
    if (record.state === 'pending') return record.lastError === undefined;
    if (record.state !== 'applied') return false;
    if (input.generation !== undefined && record.appliedGeneration < input.generation) return true;
    if (!REPORTING_KINDS.has(input.kind)) return false;
    const report = input.observedOf.get(cluster);
    const observed = report?.status.observedGeneration;
    if (
      record.downstreamGeneration !== undefined &&
      !(typeof observed === 'number' && observed >= record.downstreamGeneration)
    )
      return within(record.appliedAt, REPORT_EXPECTED_WITHIN_MS, input.now);
    return (
      report !== undefined &&
      within(report.observedAt, PROGRESS_EXPECTED_WITHIN_MS, input.now) &&
      rollingOut(report.status, input.desiredReplicas(cluster))
    );
  });
}
