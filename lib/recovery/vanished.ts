import type { PlacementMessage } from '../api/messages';
import { describeRef, type ObjectRef } from '../api/object-ref';
import type { DecisionVersion } from '../ports/decision-store';
import type { KubeObject } from '../ports/kube-client';
import type { DecisionReason } from '../placement/types';
import { act, newTrace, type RecoverySweepDeps, type RecoverySweepReport } from './deps';
import { CLOCK_SKEW_MS } from './orphans';
import { heldInWorkspace } from './holds';

type Gvr = { group: string; version: string; resource: string };

/** Reasons whose decisions place the object somewhere: only those keep copies, and applies, alive. */
const PLACING: ReadonlySet<DecisionReason> = new Set<DecisionReason>([
  'Scheduled',
  'PartiallyScheduled',
  'DeletionHeld',
]);

/**
 * The decisions of one kind that still place an object kcp's list of that kind lacks (neither its uid nor its
 * name). An empty list proves nothing (an API outage answers the same): none are returned for it.
 */
export function absentFromList(versions: DecisionVersion[], gvr: Gvr, objects: KubeObject[]): DecisionVersion[] {
  if (objects.length === 0) return [];
  const ids = new Set<string>();
  for (const o of objects) {
    if (o.metadata.uid) ids.add(o.metadata.uid);
    ids.add(`${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`);
  }
  return versions.filter(
    (v) =>
      v.ref.group === gvr.group &&
      v.ref.resource === gvr.resource &&
      PLACING.has(v.reason) &&
      !ids.has(`${v.ref.namespace ?? ''}/${v.ref.name}`) &&
      !(v.uid !== undefined && ids.has(v.uid)),
  );
}

/**
 * Objects deleted in kcp while their admission was lost, with a decision still placing them (docs/recovery.md,
 * "Chaos figures", seed 505): with no copy anywhere the orphan sweep never sees them, so nothing confirms their
 * absence and placement keeps the decision, whose applies come back forever. Here the evidence the orphan sweep
 * takes from a copy is taken from the decision: absent from a complete list read after the decision, a direct GET
 * answering NotFound, and the absence ledger confirming an earlier sighting. Only then is placement asked, and it
 * removes the object through the one gate (`admitVanished`: confirmed absence, counted burst). Nothing is deleted here.
 */
export async function confirmVanished(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  workspace: string,
  listed: Array<{ gvr: Gvr; listedAt: number; absent: DecisionVersion[] }>,
): Promise<void> {
  const candidates = listed.flatMap(({ gvr, listedAt, absent }) =>
    // A decision made after the list was sent may name an object the list is too old to hold.
    absent.filter((v) => Date.parse(v.decidedAt) + CLOCK_SKEW_MS <= listedAt).map((v) => ({ gvr, v })),
  );
  // While deletions in the workspace are held, kcp's answers are in doubt: no sighting is taken from them.
  if (candidates.length === 0 || (await heldInWorkspace(deps, workspace, []))) return;
  const kcp = await deps.kube.kcp(workspace);
  const confirmed: ObjectRef[] = [];
  for (const { gvr, v } of candidates.slice(0, Math.max(1, deps.settings.unplacedPerRun))) {
    const ref: ObjectRef = { ...v.ref, ...(v.uid !== undefined ? { uid: v.uid } : {}) };
    // kcp's truth for this one object now: a list can be incomplete. Errors propagate (retried next run).
    const source = await kcp.get({ ...gvr, namespace: ref.namespace, name: ref.name });
    if (source) {
      await deps.guard.observePresent(ref);
      continue;
    }
    if (!(await deps.guard.observeAbsent(ref))) {
      // Not quiet: the quiet gate must let a full pass come back to confirm it.
      report.actions['vanished-absence:waiting'] = (report.actions['vanished-absence:waiting'] ?? 0) + 1;
      continue;
    }
    confirmed.push(ref);
    await act(deps, report, {
      action: 'resync-unplaced',
      outcome: 'enqueued',
      why: `${describeRef(ref)} is gone from kcp (absent from its list and a GET, confirmed after a delay) but decision ${v.reason} still places it: asking placement to remove it`,
      workspace,
      ref,
    });
  }
  if (confirmed.length === 0) return;
  deps.log.warn(`Asking placement to remove ${confirmed.length} object(s) of ${workspace} that vanished from kcp`, {
    workspace,
  });
  const now = deps.now();
  await deps.placementQueue.send(
    confirmed.map((ref): PlacementMessage => ({ type: 'placement', ref, reason: 'resync', trace: newTrace(now) })),
  );
}
