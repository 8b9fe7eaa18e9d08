import type { PlacementMessage } from '../api/messages';
import type { DecisionStore, StoredDecision } from '../ports/decision-store';

/** Decisions that wanted more clusters than they got: a cluster coming back may be one they can use now. */
const NOT_FULLY_SCHEDULED: ReadonlySet<StoredDecision['reason']> = new Set([
  'PartiallyScheduled',
  'Unschedulable',
  'NoClusters',
]);

/** Whether a decision of this reason wanted more clusters than it got (the probe's and the sweep's re-ask). */
export const wantsMoreClusters = (reason: StoredDecision['reason']): boolean => NOT_FULLY_SCHEDULED.has(reason);

/** Decisions read per page while looking for them. */
const PAGE = 100;

/**
 * The placement messages (reason `cluster-change`) for a workspace's objects whose decision is not fully scheduled,
 * sent when one of its clusters leaves Unhealthy: their decisions were made while it could not be chosen, and nothing
 * else asks placement again (the SyncTarget's own message changes no scheduling fact). Pages through the workspace's
 * decisions until `limit` messages are found; runs only on that transition, so an idle stack reads nothing. This is
 * the fast path: the recovery sweep's pass (lib/recovery/partial.ts) re-asks, with a cursor, every partial decision
 * made before the return that is still partial, so what the limit leaves out or a lost message is caught there.
 */
export async function partialDecisionMessages(
  decisions: Pick<DecisionStore, 'listByWorkspace'>,
  workspace: string,
  trace: PlacementMessage['trace'],
  limit: number,
): Promise<PlacementMessage[]> {
  const messages: PlacementMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await decisions.listByWorkspace(workspace, {
      limit: PAGE,
      ...(cursor !== undefined ? { cursor } : {}),
    });
    for (const d of page.decisions) {
      if (messages.length >= limit) break;
      if (wantsMoreClusters(d.reason))
        messages.push({ type: 'placement', reason: 'cluster-change', ref: d.ref, trace });
    }
    cursor = page.cursor;
  } while (cursor !== undefined && messages.length < limit);
  return messages;
}
