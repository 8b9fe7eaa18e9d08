import { DEFAULT_EVICT_AFTER_SECONDS } from '../placement/engine';
import type { ClusterInfo } from '../placement/types';
import type { ErrorCategory } from '../errors/tmc-error';
import { CATEGORY_RULES } from '../errors/tmc-error';
import type { SyncRecord } from '../ports/sync-state-store';

/**
 * The recovery manager's rules, pure and tested by tables (test/unit/recovery/rules.test.ts). docs/recovery.md
 * states them.
 */

/**
 * Why a cluster's placed work should be re-placed now, or undefined. Unhealthy past evictAfter (counted from the
 * health record's `since`, as the engine counts it), or any NoExecute taint: the engine decides per Placement whether
 * it is tolerated and for how long, so the sweep only asks it.
 */
export function evacuationReason(cluster: ClusterInfo, now: number): string | undefined {
  if (cluster.health === 'Unhealthy') {
    const evictAfter = cluster.evictAfterSeconds ?? DEFAULT_EVICT_AFTER_SECONDS;
    if (cluster.unhealthySince !== undefined && now - cluster.unhealthySince >= evictAfter * 1000) {
      return `SyncTarget ${cluster.name} has been Unhealthy for longer than evictAfter (${evictAfter}s)`;
    }
  }
  const noExecute = cluster.taints.find((t) => t.effect === 'NoExecute');
  if (noExecute) return `SyncTarget ${cluster.name} is tainted ${noExecute.key}:NoExecute`;
  return undefined;
}

const REPLICA_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Whether one cluster's copy of an object is ready to take over: applied, and for kinds with replicas, as many ready
 * as it should run. `status` is the downstream `.status` the cluster last reported (undefined: none yet).
 */
export function copyReady(
  kind: string,
  sync: Pick<SyncRecord, 'state'> | undefined,
  status: Record<string, unknown> | undefined,
  replicas: number | undefined,
): boolean {
  if (sync?.state !== 'applied') return false;
  // Without a share (Duplicated), the cluster runs spec.replicas, which its status reports as `replicas`.
  if (REPLICA_KINDS.has(kind))
    return status !== undefined && num(status.readyReplicas) >= (replicas ?? Math.max(1, num(status.replicas)));
  if (kind === 'DaemonSet')
    return status !== undefined && num(status.numberReady) >= num(status.desiredNumberScheduled);
  return true;
}

/** Sync states that mean "desired is not applied yet". */
const UNSETTLED = new Set<SyncRecord['state']>(['pending', 'failed', 'deleting']);

/**
 * Whether a sync item is stuck: unsettled for longer than `stuckAfterSeconds`, and failed (if it failed) for a reason
 * a retry can fix. Authentication, validation, conflicts and missing CRDs wait for a person; their reason is already
 * on the kcp object, and re-sending would only repeat it.
 */
export function isStuck(
  record: Pick<SyncRecord, 'state' | 'updatedAt' | 'lastError'>,
  now: number,
  stuckAfterSeconds: number,
): boolean {
  if (!UNSETTLED.has(record.state)) return false;
  const since = Date.parse(record.updatedAt);
  if (!Number.isFinite(since) || now - since < stuckAfterSeconds * 1000) return false;
  const category: ErrorCategory | undefined = record.lastError?.category;
  return category === undefined || CATEGORY_RULES[category].retryable;
}

export interface GuardSettings {
  /** Relative threshold: largest share (0..1) of a scope's objects one sweep or window may delete without confirmation. */
  maxShare: number;
  /** Fewer deletions than this never trip the relative threshold: deleting 1 of 2 objects is not an outage signature. */
  minDeletions: number;
  /** Absolute threshold: more deletions than this in one scope trip the guard whatever their share. */
  maxDeletions: number;
  /** Window over which event-driven deletions are counted, seconds. */
  windowSeconds: number;
  /** How long a person's confirmation lets deletions through, seconds. */
  confirmSeconds: number;
  /** A held batch planned again, unchanged, this long after it was first planned goes ahead without a person, seconds. */
  recheckSeconds: number;
  /** An object kcp says is absent is deleted downstream only when a read at least this much later says so again, seconds. */
  absentConfirmSeconds: number;
  /** A first sighting of absence older than this no longer confirms anything (it is taken again), seconds. */
  absentForgetSeconds: number;
  /**
   * A removal a decision plans (un-placement) is counted at once and made only this much later, when the count of its
   * scope is still within the thresholds: the gate sees a burst whole before deleting any of it, seconds.
   */
  removalConfirmSeconds: number;
}

export const DEFAULT_GUARD: GuardSettings = {
  maxShare: 0.5,
  minDeletions: 5,
  maxDeletions: 25,
  windowSeconds: 600,
  confirmSeconds: 3600,
  recheckSeconds: 600,
  absentConfirmSeconds: 50,
  absentForgetSeconds: 3600,
  removalConfirmSeconds: 15,
};

/**
 * Whether `planned` deletions out of a scope's `total` objects (one workspace, cluster and resource type) look like
 * an API outage returning empty lists or 404s: more than `maxDeletions` at once, or at least `minDeletions` and more
 * than `maxShare` of the objects.
 */
export function deletionsSuspicious(planned: number, total: number, settings: GuardSettings): boolean {
  if (planned > settings.maxDeletions) return true;
  if (planned < settings.minDeletions) return false;
  return planned > settings.maxShare * Math.max(total, planned);
}

/** Whether a first sighting of absence at `firstSeenAt` is confirmed by a read at `now` (epoch ms). */
export function absenceConfirmed(firstSeenAt: number, now: number, settings: GuardSettings): boolean {
  const age = now - firstSeenAt;
  return age >= settings.absentConfirmSeconds * 1000 && age <= settings.absentForgetSeconds * 1000;
}
