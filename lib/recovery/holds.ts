import { z } from 'zod';
import { ConditionSchema, type Condition } from '../api/crds/common';
import { SYNC_TARGET_GROUP, SYNC_TARGET_KIND, SYNC_TARGET_RESOURCE, SYNC_TARGET_VERSION } from '../api/crds/sync-target';
import type { DeletionHold } from '../ports/recovery-store';
import { scopeFields } from './deletion-guard';
import { newTrace, type RecoverySweepDeps, type RecoverySweepReport } from './deps';

export const CONDITION_DELETIONS_HELD = 'DeletionsHeld';

const StatusSchema = z.object({ status: z.object({ conditions: z.array(ConditionSchema).optional() }).loose().optional() }).loose();

/** The SyncTargets a hold concerns: the cluster's, or every one of the workspace's. */
function targetsOf(hold: DeletionHold, clustersByWorkspace: Map<string, string[]>): Array<{ workspace: string; name: string }> {
  const { workspace, cluster } = scopeFields(hold.scope);
  if (workspace !== undefined) return (clustersByWorkspace.get(workspace) ?? []).map((name) => ({ workspace, name }));
  const found: Array<{ workspace: string; name: string }> = [];
  for (const [ws, names] of clustersByWorkspace) if (cluster !== undefined && names.includes(cluster)) found.push({ workspace: ws, name: cluster });
  return found;
}

/** Sets the `DeletionsHeld` condition on one SyncTarget when it says something else; other conditions are kept. */
async function setCondition(deps: RecoverySweepDeps, target: { workspace: string; name: string }, wanted: Omit<Condition, 'lastTransitionTime'>): Promise<void> {
  const kcp = await deps.kube.kcp(target.workspace);
  const name = { group: SYNC_TARGET_GROUP, version: SYNC_TARGET_VERSION, resource: SYNC_TARGET_RESOURCE, name: target.name };
  const current = await kcp.get(name);
  if (!current) return;
  const conditions = StatusSchema.parse(current).status?.conditions ?? [];
  const before = conditions.find((c) => c.type === wanted.type);
  if (before && before.status === wanted.status && (before.message ?? '') === (wanted.message ?? '')) return;
  if (!before && wanted.status === 'False') return; // never held: nothing to take back
  const now = new Date(deps.now()).toISOString();
  const next: Condition = { ...wanted, lastTransitionTime: before && before.status === wanted.status && before.lastTransitionTime ? before.lastTransitionTime : now };
  await kcp.patchStatus(name, { conditions: [...conditions.filter((c) => c.type !== wanted.type), next] });
}

/**
 * Keeps every hold visible (condition on the SyncTargets, gauge for the alarm) while it waits for a person; after
 * confirmation re-asks placement about the held objects once, and forgets the hold when the confirmation expires.
 */
export async function tendHolds(deps: RecoverySweepDeps, _report: RecoverySweepReport, clustersByWorkspace: Map<string, string[]>): Promise<void> {
  const now = deps.now();
  for (const hold of await deps.store.holds()) {
    const confirmed = hold.confirmedUntil !== undefined;
    deps.metrics.gauge('tmc_recovery_deletion_holds', { scope: hold.scope }, confirmed ? 0 : 1);
    const condition = confirmed
      ? { type: CONDITION_DELETIONS_HELD, status: 'False' as const, reason: 'Confirmed', message: `${hold.confirmedBy ?? 'someone'} confirmed the held deletions at ${hold.confirmedAt ?? ''}` }
      : { type: CONDITION_DELETIONS_HELD, status: 'True' as const, reason: 'MassDeletionSuspected', message: hold.reason };
    for (const target of targetsOf(hold, clustersByWorkspace)) await setCondition(deps, target, condition);
    if (!confirmed) continue;
    const workspaceRefs = hold.refs.filter((r) => hold.scope.startsWith('workspace:') && r.kind !== SYNC_TARGET_KIND);
    if (workspaceRefs.length) {
      await deps.placementQueue.send(workspaceRefs.map((ref) => ({ type: 'placement' as const, ref, reason: 'resync' as const, trace: newTrace(now) })));
    }
    if (hold.refs.length) await deps.store.putHold({ ...hold, refs: [] });
    if ((hold.confirmedUntil ?? 0) <= now) await deps.store.clearHold(hold.scope);
  }
}
