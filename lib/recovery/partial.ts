import { z } from 'zod';
import type { PlacementMessage } from '../api/messages';
import { describeRef, gvrKey } from '../api/object-ref';
import { wantsMoreClusters } from '../health/cluster-returned';
import type { ClusterInfo } from '../placement/types';
import type { DecisionVersion } from '../ports/decision-store';
import { act, newTrace, type RecoverySweepDeps, type RecoverySweepReport } from './deps';

/**
 * A return this recent is left to the next sweep: placement reads cluster health from an eventually consistent index,
 * and a decision made on a view from before the return would be "unchanged" and never asked again.
 */
export const RETURN_SETTLE_MS = 5_000;

/**
 * `CURSOR#partial|<workspace>`: the newest return every partial decision of the workspace has been checked against
 * (`done`), and while a rotation is under way the return it checks against (`target`) and where it stopped (`after`).
 */
const PartialCursorSchema = z.object({ done: z.number(), target: z.number().optional(), after: z.string().optional() });
type PartialCursor = z.infer<typeof PartialCursorSchema>;

function parseCursor(raw: string | undefined): PartialCursor {
  if (raw === undefined) return { done: 0 };
  try {
    const parsed = PartialCursorSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : { done: 0 };
  } catch {
    return { done: 0 }; // unreadable: check every decision once more, which only re-asks (never deletes)
  }
}

/**
 * The newest time one of the workspace's clusters became usable again (left Unhealthy, or was seen for the first
 * time), at least {@link RETURN_SETTLE_MS} ago; undefined when none is known.
 */
export function newestReturn(clusters: readonly ClusterInfo[], now: number): number | undefined {
  const times = clusters
    .filter(
      (c) => c.health !== 'Unhealthy' && c.availableSince !== undefined && now - c.availableSince >= RETURN_SETTLE_MS,
    )
    .map((c) => c.availableSince ?? 0);
  return times.length ? Math.max(...times) : undefined;
}

/**
 * Whether a decision should be placed again because a cluster returned at `returnedAt`: partial, and made before the
 * return or within {@link RETURN_SETTLE_MS} after it, when placement may still have read health from before it.
 */
export function askAgainAfterReturn(
  decision: Pick<DecisionVersion, 'reason' | 'decidedAt'>,
  returnedAt: number,
): boolean {
  const decided = Date.parse(decision.decidedAt);
  return wantsMoreClusters(decision.reason) && Number.isFinite(decided) && decided < returnedAt + RETURN_SETTLE_MS;
}

/**
 * Convergence of decisions made while a cluster was out (docs/recovery.md, "Partial decisions when a cluster
 * returns"): the health probe re-asks them on the transition, but that message can be lost, capped, or raced by the
 * health index. So each sweep compares the newest return among the workspace's clusters with the return its
 * decisions were last checked against; when a newer one is known it reads one page of the workspace's decisions (their
 * version fields, resuming after a cursor) and sends a `cluster-change` for each partial decision made before that
 * return. When the rotation reaches the end, that return is done. An idle stack reads one cursor item per workspace;
 * a decision placement still cannot complete is asked once per return, not once per sweep.
 */
export async function resyncPartial(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  workspace: string,
  clusters: readonly ClusterInfo[],
): Promise<void> {
  const now = deps.now();
  const returnedAt = newestReturn(clusters, now);
  if (returnedAt === undefined) return;
  const cursorKey = `partial|${workspace}`;
  const raw = await deps.store.sweepCursor(cursorKey);
  const state = parseCursor(raw);
  if (returnedAt <= state.done) return;
  // A newer return than the rotation under way checks against: start over, every decision is judged against it.
  const after = state.target === returnedAt ? state.after : undefined;
  const page = await deps.decisions.listVersions(workspace, {
    limit: Math.max(1, deps.settings.partialDecisionLimit),
    ...(after !== undefined ? { after } : {}),
  });
  const messages: PlacementMessage[] = [];
  for (const decision of page.versions) {
    if (!askAgainAfterReturn(decision, returnedAt)) continue;
    messages.push({ type: 'placement', ref: decision.ref, reason: 'cluster-change', trace: newTrace(now) });
    await act(deps, report, {
      action: 'resync-partial',
      outcome: 'enqueued',
      why: `${describeRef(decision.ref)} is ${decision.reason} since ${decision.decidedAt}, before a cluster returned at ${new Date(returnedAt).toISOString()}: asking placement again`,
      workspace,
      ref: decision.ref,
    });
  }
  if (messages.length) {
    deps.log.info(
      `Asking placement again about ${messages.length} object(s) of ${workspace} decided while a cluster was out`,
      { workspace, kinds: [...new Set(messages.map((m) => gvrKey(m.ref)))].join(',') },
    );
    await deps.placementQueue.send(messages);
  }
  // Only after the messages are on the queue: a failed send leaves the cursor, and the next sweep sends them again.
  const next: PartialCursor =
    page.last === undefined ? { done: returnedAt } : { done: state.done, target: returnedAt, after: page.last };
  const encoded = JSON.stringify(next);
  if (encoded !== raw) await deps.store.putSweepCursor(cursorKey, encoded);
}
