import { z } from 'zod';
import { ConditionSchema, type Condition } from '../api/crds/common';
import {
  SYNC_TARGET_GROUP,
  SYNC_TARGET_KIND,
  SYNC_TARGET_RESOURCE,
  SYNC_TARGET_VERSION,
} from '../api/crds/sync-target';
import type { DeletionHold } from '../ports/recovery-store';
import { actionFields, scopeFields } from './deletion-guard';
import { newTrace, type RecoverySweepDeps, type RecoverySweepReport } from './deps';

export const CONDITION_DELETIONS_HELD = 'DeletionsHeld';

const StatusSchema = z
  .object({
    status: z
      .object({ conditions: z.array(ConditionSchema).optional() })
      .loose()
      .optional(),
  })
  .loose();

/** The SyncTargets a hold concerns: the cluster's, or every one of the workspace's. */
function targetsOf(
  hold: DeletionHold,
  clustersByWorkspace: Map<string, string[]>,
): Array<{ workspace: string; name: string }> {
  const { workspace, cluster } = scopeFields(hold.scope);
  if (cluster === undefined)
    return workspace === undefined
      ? []
      : (clustersByWorkspace.get(workspace) ?? []).map((name) => ({ workspace, name }));
  const found: Array<{ workspace: string; name: string }> = [];
  for (const [ws, names] of clustersByWorkspace)
    if ((workspace === undefined || workspace === ws) && names.includes(cluster))
      found.push({ workspace: ws, name: cluster });
  return found;
}

/** Sets the `DeletionsHeld` condition on one SyncTarget when it says something else; other conditions are kept. */
async function setCondition(
  deps: RecoverySweepDeps,
  target: { workspace: string; name: string },
  wanted: Omit<Condition, 'lastTransitionTime'>,
): Promise<void> {
  const kcp = await deps.kube.kcp(target.workspace);
  const name = {
    group: SYNC_TARGET_GROUP,
    version: SYNC_TARGET_VERSION,
    resource: SYNC_TARGET_RESOURCE,
    name: target.name,
  };
  const current = await kcp.get(name);
  if (!current) return;
  const conditions = StatusSchema.parse(current).status?.conditions ?? [];
  const before = conditions.find((c) => c.type === wanted.type);
  if (before && before.status === wanted.status && (before.message ?? '') === (wanted.message ?? '')) return;
  if (!before && wanted.status === 'False') return; // never held: nothing to take back
  const now = new Date(deps.now()).toISOString();
  const next: Condition = {
    ...wanted,
    lastTransitionTime:
      before && before.status === wanted.status && before.lastTransitionTime ? before.lastTransitionTime : now,
  };
  await kcp.patchStatus(name, { conditions: [...conditions.filter((c) => c.type !== wanted.type), next] });
}

type Wanted = Omit<Condition, 'lastTransitionTime'>;

/**
 * Keeps every hold visible (one condition per SyncTarget summing up its holds, a gauge per scope for the alarm) while
 * it waits for a person; resolves a hold whose scope this sweep found nothing to delete in (`quiet`: kcp lists the
 * objects again); releases a held un-placement after the recheck delay; after confirmation or release re-asks
 * placement about the held objects once, and forgets the hold when the confirmation expires.
 */
export async function tendHolds(
  deps: RecoverySweepDeps,
  _report: RecoverySweepReport,
  clustersByWorkspace: Map<string, string[]>,
  quiet: ReadonlySet<string> = new Set(),
): Promise<void> {
  const now = deps.now();
  const targets = new Map<string, { target: { workspace: string; name: string }; open: string[]; closed?: Wanted }>();
  for (const stored of await deps.store.holds()) {
    const hold = await deps.guard.recheckRemovals(stored);
    const confirmed = hold.confirmedUntil !== undefined;
    const resolved = !confirmed && quiet.has(hold.scope);
    if (resolved) {
      const at = new Date(now).toISOString();
      const why = `The sweep found nothing left to delete in ${hold.scope} (kcp lists the objects again): the hold is resolved`;
      deps.log.info(`Resolving the deletion hold in ${hold.scope}: nothing is left to delete there`, {
        scope: hold.scope,
        ...scopeFields(hold.scope),
      });
      await deps.store.clearHold(hold.scope);
      await deps.store.record({ action: 'deletion-hold', outcome: 'released', why, at, ...actionFields(hold.scope) });
      deps.metrics.increment('tmc_recovery_actions_total', { action: 'deletion-hold', outcome: 'released' });
    }
    deps.metrics.gauge('tmc_recovery_deletion_holds', { scope: hold.scope }, confirmed || resolved ? 0 : 1);
    const closed: Wanted = resolved
      ? {
          type: CONDITION_DELETIONS_HELD,
          status: 'False',
          reason: 'Resolved',
          message: `kcp lists the objects of ${hold.scope} again; nothing was deleted`,
        }
      : {
          type: CONDITION_DELETIONS_HELD,
          status: 'False',
          reason: 'Confirmed',
          message: `${hold.confirmedBy ?? 'someone'} confirmed the held deletions in ${hold.scope} at ${hold.confirmedAt ?? ''}`,
        };
    for (const target of targetsOf(hold, clustersByWorkspace)) {
      const key = `${target.workspace}|${target.name}`;
      const entry = targets.get(key) ?? { target, open: [] };
      if (confirmed || resolved) entry.closed ??= closed;
      else entry.open.push(hold.reason);
      targets.set(key, entry);
    }
    if (!confirmed) continue;
    // Placement holds (vanished objects, removals by decisions): placement decides again. The sweep's own holds
    // (`cluster:`) are re-examined by its next run.
    const asked = hold.refs.length ? await deps.guard.heldRemovals(hold) : [];
    const workspaceRefs = asked.filter((r) => !hold.scope.startsWith('cluster:') && r.kind !== SYNC_TARGET_KIND);
    if (workspaceRefs.length) {
      await deps.placementQueue.send(
        workspaceRefs.map((ref) => ({
          type: 'placement' as const,
          ref,
          reason: 'resync' as const,
          trace: newTrace(now),
        })),
      );
    }
    if (hold.refs.length) await deps.store.putHold({ ...hold, refs: [] });
    if ((hold.confirmedUntil ?? 0) <= now) await deps.store.clearHold(hold.scope);
  }
  for (const { target, open, closed } of targets.values()) {
    const more = open.length > 1 ? ` (and ${open.length - 1} more: tmc recovery holds)` : '';
    const wanted: Wanted | undefined = open.length
      ? {
          type: CONDITION_DELETIONS_HELD,
          status: 'True',
          reason: 'MassDeletionSuspected',
          message: `${open[0]}${more}`,
        }
      : closed;
    if (wanted) await setCondition(deps, target, wanted);
  }
}

/**
 * True while deletions in the workspace or on one of its clusters wait for a person: kcp's answers are in doubt. A
 * held un-placement (`unplace:`) casts no doubt on kcp's answers: its objects were read, decided and are still placed.
 * The anti-entropy pass sends no delete of a decision's move meanwhile.
 */
export async function heldInWorkspace(
  deps: RecoverySweepDeps,
  workspace: string,
  clusters: string[],
): Promise<boolean> {
  const concerns = (scope: string): boolean => {
    if (scope.startsWith('unplace:')) return false;
    const f = scopeFields(scope);
    return (
      f.workspace === workspace ||
      (f.workspace === undefined && f.cluster !== undefined && clusters.includes(f.cluster))
    );
  };
  return (await deps.store.holds()).some((h) => concerns(h.scope) && h.confirmedUntil === undefined);
}
