import type { ObjectRef } from '../api/object-ref';
import type { StoredDecision } from '../ports/decision-store';
import { unplaceScope, type RemovalGuard } from '../recovery/deletion-guard';
import type { Decision } from './types';

/** A decision after the gate, and when to ask placement again about removals that wait to be counted (seconds). */
export interface GatedDecision {
  decision: Decision;
  askAgainAfterSeconds?: number;
}

/**
 * Passes the removals a new decision makes through the mass-deletion guard (docs/recovery.md, "Un-placement"): a
 * cluster whose removal is held or still waits to be counted with its burst stays in the decision with its previous
 * share, so its copy is kept and kept current, while the clusters the decision adds get their applies at once. A held
 * decision says why (reason `DeletionHeld`, shown as the object's `Placed` condition); a waiting one says when it goes,
 * and placement is asked again then. `exempt`: clusters not removed by a delete here (a failover's, cleaned up by the
 * sweep).
 */
export async function holdGuardedRemovals(
  guard: RemovalGuard | undefined,
  ref: ObjectRef,
  previous: Pick<StoredDecision, 'clusters'> | undefined,
  decision: Decision,
  exempt: ReadonlySet<string>,
): Promise<GatedDecision> {
  if (!guard || !previous?.clusters.length) return { decision };
  const removed = previous.clusters.filter(
    (c) => !exempt.has(c.name) && !decision.clusters.some((d) => d.name === c.name),
  );
  const held: StoredDecision['clusters'] = [];
  const waiting: StoredDecision['clusters'] = [];
  for (const cluster of removed) {
    const verdict = await guard.admitRemoval(ref, cluster.name);
    if (verdict === 'hold') held.push(cluster);
    else if (verdict === 'wait') waiting.push(cluster);
  }
  if (held.length === 0 && waiting.length === 0) return { decision };
  const clusters = [...decision.clusters, ...held, ...waiting];
  if (held.length === 0) {
    const names = waiting.map((c) => c.name).join(', ');
    const message = `Leaving ${names} within ${guard.removalConfirmSeconds}s, once tmc has counted how many ${ref.resource} leave at once. ${decision.message}`;
    return { decision: { ...decision, clusters, message }, askAgainAfterSeconds: guard.removalConfirmSeconds };
  }
  const names = held.map((c) => c.name).join(', ');
  const scopes = held.map((c) => unplaceScope(ref.workspace, c.name, ref)).join(' ');
  return {
    decision: {
      ...decision,
      clusters,
      scheduled: false,
      reason: 'DeletionHeld',
      message: `Kept on ${names}: too many ${ref.resource} are leaving at once, so their removal is held (tmc recovery holds; if intended: tmc recovery confirm ${scopes}). ${decision.message}`,
    },
    ...(waiting.length ? { askAgainAfterSeconds: guard.removalConfirmSeconds } : {}),
  };
}
