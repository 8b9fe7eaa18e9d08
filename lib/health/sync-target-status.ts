import type { Condition } from '../api/crds/common';
import type { SyncMode } from '../api/crds/sync-target';
import type { ClusterHealth } from './cluster-health';

/**
 * SyncTarget status from cluster health: conditions `Ready` and `HeartbeatHealthy`, and `lastSyncerHeartbeatTime`.
 *
 * Write budget: kcp is written only when a condition's status, reason or message changes, or when the heartbeat is
 * due. The heartbeat time changes every probe, so writing it every probe would mean one kcp write per cluster per
 * minute for nothing; instead it is written with any condition change, and otherwise at most once per
 * `heartbeatIntervalSeconds` (default 300 s = every fifth probe at the 60 s schedule), and only after a successful
 * probe (it means "tmc last reached the cluster at"). Readers that judge liveness from it must allow that interval.
 */

export const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 300;

export const CONDITION_READY = 'Ready';
export const CONDITION_HEARTBEAT_HEALTHY = 'HeartbeatHealthy';

/** The two conditions tmc owns, without transition times. */
export function desiredConditions(health: ClusterHealth): Array<Omit<Condition, 'lastTransitionTime'>> {
  const ready: Omit<Condition, 'lastTransitionTime'> =
    health.state === 'Unhealthy'
      ? { type: CONDITION_READY, status: 'False', reason: health.reason, message: health.message }
      : health.state === 'Unknown'
        ? { type: CONDITION_READY, status: 'Unknown', reason: health.reason, message: health.message }
        : { type: CONDITION_READY, status: 'True', reason: health.reason, message: health.message };
  const last = health.history[health.history.length - 1];
  const heartbeat: Omit<Condition, 'lastTransitionTime'> =
    last === undefined
      ? {
          type: CONDITION_HEARTBEAT_HEALTHY,
          status: 'Unknown',
          reason: 'NeverProbed',
          message: 'The cluster has not been probed yet',
        }
      : last.ok
        ? {
            type: CONDITION_HEARTBEAT_HEALTHY,
            status: 'True',
            reason: 'HeartbeatSucceeded',
            message: last.source === 'syncer' ? 'the syncer reported in' : 'readyz answered',
          }
        : {
            type: CONDITION_HEARTBEAT_HEALTHY,
            status: 'False',
            reason: 'HeartbeatFailed',
            message: last.detail ?? 'The cluster did not answer',
          };
  return [ready, heartbeat];
}

export interface SyncTargetStatusPlan {
  /** The status merge patch to send, or undefined when kcp already says all of it. */
  patch?: { conditions: Condition[]; lastSyncerHeartbeatTime?: string; syncMode?: SyncMode };
  conditionsChanged: boolean;
  heartbeatDue: boolean;
}

function same(a: Omit<Condition, 'lastTransitionTime'>, b: Condition | undefined): boolean {
  return (
    b !== undefined &&
    a.status === b.status &&
    (a.reason ?? '') === (b.reason ?? '') &&
    (a.message ?? '') === (b.message ?? '')
  );
}

/**
 * What to write to a SyncTarget's status, given what kcp has now. Conditions other than tmc's two are kept (a merge
 * patch replaces the whole array); `lastTransitionTime` moves only when a condition's status changes.
 */
export function planSyncTargetStatus(
  current: { conditions?: Condition[]; lastSyncerHeartbeatTime?: string; syncMode?: string } | undefined,
  health: ClusterHealth,
  now: number,
  heartbeatIntervalSeconds: number = DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
  syncMode?: SyncMode,
): SyncTargetStatusPlan {
  const existing = current?.conditions ?? [];
  const desired = desiredConditions(health);
  // A mode change is written like a condition change: once, with the conditions it comes with.
  const conditionsChanged =
    desired.some(
      (d) =>
        !same(
          d,
          existing.find((c) => c.type === d.type),
        ),
    ) ||
    (syncMode !== undefined && current?.syncMode !== syncMode);
  const last = health.history[health.history.length - 1];
  const reachedAt = last?.ok ? last.at : undefined;
  const previousBeat =
    current?.lastSyncerHeartbeatTime === undefined ? undefined : Date.parse(current.lastSyncerHeartbeatTime);
  const heartbeatDue =
    reachedAt !== undefined &&
    (previousBeat === undefined || Number.isNaN(previousBeat) || now - previousBeat >= heartbeatIntervalSeconds * 1000);
  if (!conditionsChanged && !heartbeatDue) return { conditionsChanged, heartbeatDue };

  const nowIso = new Date(now).toISOString();
  const ours = desired.map((d): Condition => {
    const before = existing.find((c) => c.type === d.type);
    const lastTransitionTime =
      before !== undefined && before.status === d.status && before.lastTransitionTime
        ? before.lastTransitionTime
        : nowIso;
    return { ...d, lastTransitionTime };
  });
  const others = existing.filter((c) => !desired.some((d) => d.type === c.type));
  return {
    patch: {
      conditions: [...others, ...ours],
      ...(reachedAt !== undefined ? { lastSyncerHeartbeatTime: reachedAt } : {}),
      ...(syncMode !== undefined ? { syncMode } : {}),
    },
    conditionsChanged,
    heartbeatDue,
  };
}
