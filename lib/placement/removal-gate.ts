import type { ObjectRef } from '../api/object-ref';
import type { StoredDecision } from '../ports/decision-store';
import { unplaceScope, type RemovalGuard } from '../recovery/deletion-guard';
import type { Decision } from './types';

/**
 * Passes the removals a new decision makes through the mass-deletion guard (docs/recovery.md): a cluster whose removal
 * is held stays in the decision with its previous share, so its copy is kept and kept current, while the clusters
 * the decision adds get their applies. The decision then says why (reason `DeletionHeld`, shown as the object's
 * `Placed` condition). `exempt`: clusters not removed by a delete here (a failover's, cleaned up by the sweep).
 */
export async function holdGuardedRemovals(guard: RemovalGuard | undefined, ref: ObjectRef, previous: Pick<StoredDecision, 'clusters'> | undefined, decision: Decision, exempt: ReadonlySet<string>): Promise<Decision> {
  if (!guard || !previous?.clusters.length) return decision;
  const removed = previous.clusters.filter((c) => !exempt.has(c.name) && !decision.clusters.some((d) => d.name === c.name));
  const held: StoredDecision['clusters'] = [];
  for (const cluster of removed) if ((await guard.admitRemoval(ref, cluster.name)) === 'hold') held.push(cluster);
  if (held.length === 0) return decision;
  const names = held.map((c) => c.name).join(', ');
  const scopes = held.map((c) => unplaceScope(ref.workspace, c.name, ref)).join(' ');
  return {
    ...decision,
    clusters: [...decision.clusters, ...held],
    scheduled: false,
    reason: 'DeletionHeld',
    message: `Kept on ${names}: too many ${ref.resource} are leaving at once, so their removal is held (tmc recovery holds; if intended: tmc recovery confirm ${scopes}). ${decision.message}`,
  };
}
