import type { PlacementMessage } from '../api/messages';
import type { DecisionStore, StoredDecision } from '../ports/decision-store';

/** Decisions that wanted more clusters than they got: a cluster coming back may be one they can use now. */
const NOT_FULLY_SCHEDULED: ReadonlySet<StoredDecision['reason']> = new Set(['PartiallyScheduled', 'Unschedulable', 'NoClusters']);

/** Decisions read per page while looking for them. */
const PAGE = 100;

/**
 * The placement messages (reason `cluster-change`) for a workspace's objects whose decision is not fully scheduled,
 * sent when one of its clusters leaves Unhealthy: their decisions were made while it could not be chosen, and nothing
 * else asks placement again (the SyncTarget's own message changes no scheduling fact). Pages through the workspace's
 * decisions until `limit` messages are found; runs only on that transition, so an idle stack reads nothing.
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
    const page = await decisions.listByWorkspace(workspace, { limit: PAGE, ...(cursor !== undefined ? { cursor } : {}) });
    for (const d of page.decisions) {
      if (messages.length >= limit) break;
      if (NOT_FULLY_SCHEDULED.has(d.reason)) messages.push({ type: 'placement', reason: 'cluster-change', ref: d.ref, trace });
    }
    cursor = page.cursor;
  } while (cursor !== undefined && messages.length < limit);
  return messages;
}
