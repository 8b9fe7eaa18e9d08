import pLimit from 'p-limit';
import { describeRef, objectKey, type ObjectRef } from '../../api/object-ref';
import type { SyncLog } from '../sync-log';

/** What sync-apply needs of a status reporter: ask for a refresh; the answer is not read. */
export interface StatusRefresher {
  refresh(ref: ObjectRef): Promise<unknown>;
}

/** Refreshes in flight at once when a batch ends: a batch is at most 10 messages, so this bounds kcp writes from it. */
const FLUSH_CONCURRENCY = 4;

/**
 * sync-apply's refreshes, held until its batch is done and then run once per object. Placement sends an object's
 * messages for every cluster in one SendMessageBatch, so they usually arrive in one batch: refreshing after each
 * cluster's first apply cost a kcp read, DynamoDB reads and a kcp write per cluster, where once per object sees every
 * cluster's new state. Unlike status-up's BatchRefresh, `refresh` returns at once (the caller holds a per-pair lock
 * the other messages of the batch may need, so it must not wait for them); `flush` runs the refreshes, before the
 * invocation returns, and only logs a failure, as sync-apply always did: the status message or the backstop heals it.
 */
export class RefreshAfterBatch implements StatusRefresher {
  private readonly pending = new Map<string, ObjectRef>();

  constructor(
    private readonly reporter: StatusRefresher,
    private readonly log: SyncLog,
  ) {}

  refresh(ref: ObjectRef): Promise<void> {
    this.pending.set(objectKey(ref), ref);
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    const refs = [...this.pending.values()];
    this.pending.clear();
    const limit = pLimit(FLUSH_CONCURRENCY);
    await Promise.all(
      refs.map((ref) =>
        limit(() =>
          this.reporter.refresh(ref).catch((err: unknown) => {
            this.log.warn(`Could not refresh the status of ${describeRef(ref)} after applying it`, { error: String(err) });
          }),
        ),
      ),
    );
  }
}
