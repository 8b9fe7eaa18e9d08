import { objectKey } from '../api/object-ref';
import type { SyncRecord } from '../ports/sync-state-store';
import type { RecoverySweepDeps } from './deps';

const keyOf = (r: SyncRecord): string => objectKey(r.ref);

/**
 * The sync items one sweep examines on a cluster: at most `perClusterLimit`, resuming after the object where the
 * previous sweep stopped (a cursor in DynamoDB, per workspace and cluster), and wrapping round to the start. A
 * cluster with more items than one sweep reads is thus covered over successive sweeps instead of its first page only.
 * Items are in object-key order (the gsi1 sort key); objects created behind the cursor are reached after the wrap.
 */
export async function sweepPage(deps: RecoverySweepDeps, workspace: string, cluster: string): Promise<SyncRecord[]> {
  const limit = Math.max(1, deps.settings.perClusterLimit);
  const cursorKey = `sweep|${workspace}|${cluster}`;
  const after = await deps.store.sweepCursor(cursorKey);
  const tail = await deps.syncState.listForCluster(cluster, { limit, ...(after !== undefined ? { after } : {}) });
  let page = tail;
  let next: string | undefined;
  if (tail.length === limit) {
    next = keyOf(tail[tail.length - 1]);
  } else if (after !== undefined) {
    // The end is reached: fill the rest of this run from the start, up to (and including) the old cursor.
    const room = limit - tail.length;
    const fromStart = await deps.syncState.listForCluster(cluster, { limit: room });
    const head = fromStart.filter((r) => keyOf(r) <= after);
    page = [...tail, ...head];
    next = head.length === room ? keyOf(head[head.length - 1]) : undefined;
  }
  if (next !== after) await deps.store.putSweepCursor(cursorKey, next);
  return page.filter((r) => r.ref.workspace === workspace);
}
