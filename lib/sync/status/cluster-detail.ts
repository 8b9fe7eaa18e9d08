import type { ClusterStatusRecord } from '../../ports/status-store';
import type { SyncRecord } from '../../ports/sync-state-store';
import { canonicalJson } from '../../kube/canonical-json';
import type { StatusCondition } from './types';

/**
 * The per-cluster detail tmc writes to `experimental.status.workload.kcp.io/<cluster-key>` on the kcp object (JSON).
 * `Synced` is where sync errors (conflicts, 422 messages, permission problems, throttling) become visible to users.
 */
export interface ClusterDetail {
  cluster: string;
  /** The sync item's state (pending, applied, failed, conflict, deleting, deleted). */
  state: string;
  conditions: StatusCondition[];
  /** The downstream object's status as last observed, when the kind has one. */
  status?: Record<string, unknown>;
  observedAt?: string;
  /** Age of `observedAt` when this detail was written (informational; not compared when deciding to write). */
  age?: string;
}

/** A condition or Event reason from an error category: `sync-conflict` → `SyncConflict`. */
export function reasonOf(category: string): string {
  return category.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
}

export function syncedCondition(sync: SyncRecord | undefined): StatusCondition {
  if (!sync)
    return { type: 'Synced', status: 'Unknown', reason: 'Pending', message: 'Not yet applied to this cluster' };
  switch (sync.state) {
    case 'applied':
      return {
        type: 'Synced',
        status: 'True',
        reason: 'Applied',
        message: `Generation ${sync.appliedGeneration} applied`,
        lastTransitionTime: sync.appliedAt,
      };
    case 'deleted':
      return {
        type: 'Synced',
        status: 'False',
        reason: 'Deleted',
        message: 'Removed from this cluster',
        lastTransitionTime: sync.updatedAt,
      };
    case 'deleting':
      return {
        type: 'Synced',
        status: 'False',
        reason: 'Deleting',
        message: 'Being removed from this cluster',
        lastTransitionTime: sync.updatedAt,
      };
    default: {
      const err = sync.lastError;
      if (!err)
        return { type: 'Synced', status: 'Unknown', reason: 'Pending', message: 'Not yet applied to this cluster' };
      return {
        type: 'Synced',
        status: 'False',
        reason: reasonOf(err.category),
        message: `${err.message}. ${err.hint}`,
        lastTransitionTime: err.at,
      };
    }
  }
}

function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h`;
}

export function clusterDetail(
  cluster: string,
  sync: SyncRecord | undefined,
  observed: ClusterStatusRecord | undefined,
  now: Date,
): ClusterDetail {
  const detail: ClusterDetail = { cluster, state: sync?.state ?? 'pending', conditions: [syncedCondition(sync)] };
  if (observed) {
    detail.status = observed.status;
    detail.observedAt = observed.observedAt;
    detail.age = formatAge(Math.max(0, Math.round((now.getTime() - Date.parse(observed.observedAt)) / 1000)));
  }
  return detail;
}

/**
 * Two details are the same when they differ at most in `age` and `observedAt`: a cluster re-reporting an unchanged
 * status (a new resourceVersion from a metadata-only change, the backstop poll) is not news worth a kcp write. The
 * written `observedAt` is thus when the current status was first seen.
 */
export function sameDetail(current: string | undefined, next: ClusterDetail): boolean {
  if (current === undefined) return false;
  try {
    const parsed: unknown = JSON.parse(current);
    if (typeof parsed !== 'object' || parsed === null) return false;
    const { age: _a, observedAt: _o, ...rest } = parsed as Record<string, unknown>;
    const { age: _b, observedAt: _p, ...nextRest } = next;
    return canonicalJson(rest) === canonicalJson(nextRest);
  } catch {
    return false;
  }
}
