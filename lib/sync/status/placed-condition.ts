import type { DecisionView, SyncRecord } from '../../ports/sync-state-store';
import { syncedCondition } from './cluster-detail';
import type { StatusCondition } from './types';

/** The condition that says where the object runs, and why nowhere when it runs nowhere (docs/syncer.md). */
export const PLACED_CONDITION = 'Placed';

/**
 * Whether a cluster's sync record says a copy of the object is there, so that what the cluster last reported about it
 * may be counted: applied (or applied once and failing since). A removed copy, one being removed, or one never applied
 * reports nothing any more, whatever its last status said.
 */
export function copyPresent(record: SyncRecord | undefined): boolean {
  if (!record || record.state === 'deleted' || record.state === 'deleting') return false;
  return record.state === 'applied' || record.appliedAt !== undefined;
}

function describeLeftovers(leftovers: SyncRecord[]): string {
  return leftovers.map((r) => `${r.cluster} (${syncedCondition(r).reason ?? r.state})`).join(', ');
}

/**
 * `Placed` from placement's decision and the copies still recorded on clusters the decision no longer names
 * (`leftovers`): True with the clusters; False with the decision's reason and message when it runs nowhere (no
 * Placement selects its namespace, no cluster fits, no SyncTarget) or is kept where it is by a failover with nowhere
 * to go; False `Deleting` naming the clusters a deleted object still waits for. Undefined before any decision.
 */
export function placedCondition(
  decision: DecisionView | undefined,
  leftovers: SyncRecord[],
): StatusCondition | undefined {
  if (!decision) return undefined;
  const names = decision.clusters.map((c) => c.name);
  if (decision.reason === 'Deleted') {
    return leftovers.length
      ? {
          type: PLACED_CONDITION,
          status: 'False',
          reason: 'Deleting',
          message: `Being deleted: waiting for its copies on ${describeLeftovers(leftovers)} to be removed`,
        }
      : {
          type: PLACED_CONDITION,
          status: 'False',
          reason: 'Deleted',
          message: 'Being deleted: removed from every cluster',
        };
  }
  const removing = leftovers.length ? `; removing it from ${describeLeftovers(leftovers)}` : '';
  if (names.length === 0 || decision.scheduled === false) {
    return {
      type: PLACED_CONDITION,
      status: 'False',
      reason: decision.reason ?? 'NotPlaced',
      message: `${decision.message ?? 'Not placed on any cluster'}${removing}`,
    };
  }
  return {
    type: PLACED_CONDITION,
    status: 'True',
    reason: decision.reason ?? 'Scheduled',
    message: `Placed on ${names.join(', ')}${removing}`,
  };
}
