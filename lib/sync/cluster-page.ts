import { objectKey } from '../api/object-ref';
import type { RecoveryStore } from '../ports/recovery-store';
import type { SyncRecord, SyncStateStore } from '../ports/sync-state-store';

/** Where a bounded reader of a cluster's sync items resumes: the recovery store's `CURSOR#<key>` items. */
export type ClusterCursors = Pick<RecoveryStore, 'sweepCursor' | 'putSweepCursor'>;

const keyOf = (r: SyncRecord): string => objectKey(r.ref);

/**
 * One bounded page of a cluster's sync items for a scheduled pass (the recovery sweep, the status backstop): at most
 * `limit`, resuming after the object where the previous run of the same pass (`cursorKey`) stopped, and wrapping round
 * to the start. A cluster with more items than one run reads is thus covered over successive runs instead of its first
 * page only. Items are in object-key order (the gsi1 sort key); objects created behind the cursor are reached after
 * the wrap. Without a cursor store, every run reads the first page.
 */
export async function clusterPage(
  syncState: Pick<SyncStateStore, 'listForCluster'>,
  cursors: ClusterCursors | undefined,
  cursorKey: string,
  cluster: string,
  limit: number,
): Promise<SyncRecord[]> {
  const size = Math.max(1, limit);
  if (cursors === undefined) return syncState.listForCluster(cluster, { limit: size });
  const after = await cursors.sweepCursor(cursorKey);
  const tail = await syncState.listForCluster(cluster, { limit: size, ...(after !== undefined ? { after } : {}) });
  let page = tail;
  let next: string | undefined;
  if (tail.length === size) {
    next = keyOf(tail[tail.length - 1]);
  } else if (after !== undefined) {
    // The end is reached: fill the rest of this run from the start, up to (and including) the old cursor.
    const room = size - tail.length;
    const fromStart = await syncState.listForCluster(cluster, { limit: room });
    const head = fromStart.filter((r) => keyOf(r) <= after);
    page = [...tail, ...head];
    next = head.length === room ? keyOf(head[head.length - 1]) : undefined;
  }
  if (next !== after) await cursors.putSweepCursor(cursorKey, next);
  return page;
}
