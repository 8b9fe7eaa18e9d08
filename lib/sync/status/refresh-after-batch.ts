import pLimit from 'p-limit';
import { describeRef, objectKey, type ObjectRef } from '../../api/object-ref';
import type { ObjectSnapshotReader } from '../../ports/object-snapshot';
import type { ReportFollows, StatusRefresher } from '../../ports/status-refresher';
import type { Log } from '../../observability/log';
import { REPORTING_KINDS } from './awaited-reports';

/**
 * The report an apply can count on, if any: only for {@link REPORTING_KINDS}, and only when the apply created the
 * downstream object (`before` 0) or raised its generation. An apply that changed no generation (a recovery from a
 * failed attempt, an adopted copy) causes no status update, so it must refresh itself.
 */
export function reportFollowing(
  kind: string,
  cluster: string,
  before: number | undefined,
  after: number | undefined,
): ReportFollows | undefined {
  if (!REPORTING_KINDS.has(kind) || before === undefined || after === undefined || after <= before) return undefined;
  return { cluster, downstreamGeneration: after };
}

/** Refreshes in flight at once when a batch ends: a batch is at most 10 messages, so this bounds kcp writes from it. */
const FLUSH_CONCURRENCY = 4;

interface Pending {
  ref: ObjectRef;
  /** Asked without a following report: refresh whatever the table says. */
  always: boolean;
  follows: ReportFollows[];
}

/**
 * sync-apply's refreshes, held until its batch is done and then run once per object. Placement sends an object's
 * messages for every cluster in one SendMessageBatch, so they usually arrive in one batch: refreshing after each
 * cluster's first apply cost a kcp read, DynamoDB reads and a kcp write per cluster, where once per object sees every
 * cluster's new state. Unlike status-up's BatchRefresh, `refresh` returns at once (the caller holds a per-pair lock
 * the other messages of the batch may need, so it must not wait for them); `flush` runs the refreshes, before the
 * invocation returns, and only logs a failure, as sync-apply always did: the status message or the backstop heals it.
 *
 * An object whose every ask names a following report (ReportFollows) is left to status-up, which then writes kcp once
 * for the apply and the status together instead of sync-apply and status-up each writing (and colliding in 409s).
 * Unless a report of that generation is already stored: it raced ahead of the sync record, and status-up's refresh
 * read the old one, so this refresh is the one that shows the apply. The check reads the table after the sync records
 * were stored, and status-up reads them after storing its report, so one of the two always sees both.
 */
export class RefreshAfterBatch implements StatusRefresher {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly reporter: StatusRefresher,
    private readonly log: Log,
    /** Reads stored reports for the check above; without it every ask refreshes. */
    private readonly snapshot?: ObjectSnapshotReader,
  ) {}

  refresh(ref: ObjectRef, follows?: ReportFollows): Promise<void> {
    const key = objectKey(ref);
    const entry = this.pending.get(key) ?? { ref, always: false, follows: [] };
    if (follows && this.snapshot) entry.follows.push(follows);
    else entry.always = true;
    this.pending.set(key, entry);
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    const entries = [...this.pending.values()];
    this.pending.clear();
    const limit = pLimit(FLUSH_CONCURRENCY);
    await Promise.all(
      entries.map((entry) =>
        limit(async () => {
          try {
            if (!entry.always && !(await this.reportedAlready(entry))) return;
            await this.reporter.refresh(entry.ref);
          } catch (err) {
            this.log.warn(`Could not refresh the status of ${describeRef(entry.ref)} after applying it`, {
              error: String(err),
            });
          }
        }),
      ),
    );
  }

  /** Whether a following report is stored already (for the applied generation or a later one). */
  private async reportedAlready(entry: Pending): Promise<boolean> {
    if (!this.snapshot) return true;
    const { statuses } = await this.snapshot.read(entry.ref);
    return entry.follows.some((f) => {
      const observed = statuses.find((s) => s.cluster === f.cluster)?.status.observedGeneration;
      return typeof observed === 'number' && observed >= f.downstreamGeneration;
    });
  }
}
