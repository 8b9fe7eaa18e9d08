import { describeRef, objectKey, type ObjectRef } from '../../api/object-ref';
import type { ObjectSnapshotReader } from '../../ports/object-snapshot';
import type { ReportFollows, StatusRefresher } from '../../ports/status-refresher';
import type { StatusMessage } from '../../api/messages';
import type { Log } from '../../observability/log';
import { REPORTING_KINDS } from './awaited-reports';
import type { ScheduleRefreshes } from './batch-refresh';
import type { CoalescingStatusReporter } from './report-status';

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

interface Pending {
  ref: ObjectRef;
  /** Asked without a following report: refresh whatever the table says. */
  always: boolean;
  follows: ReportFollows[];
  /** The first asker's re-run message, when every asker allows the write to be held back. */
  rerun: StatusMessage | undefined;
  mayHold: boolean;
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
 * may have read the old one, so this refresh (or, with `schedule`, its re-run) is the one that shows the apply. The
 * check reads the table after the sync records were stored, and status-up reads them after storing its report, so one
 * of the two always sees both.
 *
 * Across batches (an object's clusters' messages split over batches and containers): with `schedule`, an object whose
 * every ask passed a re-run message writes nothing while another placed cluster's apply is on its way
 * (CoalescingStatusReporter, awaited-reports.ts), so the last cluster's apply writes every cluster's detail at once.
 * A held refresh never relies on that apply (its message may be lost, stale, or find the object applied already as a
 * dependency): its re-run goes to the status queue, delayed, before `flush` returns (so before the batch's messages
 * are acknowledged), and status-up runs it as a refresh that never holds back. A failed send writes at once instead.
 */
export class RefreshAfterBatch implements StatusRefresher {
  private readonly pending = new Map<string, Pending>();

  constructor(
    /** With `refreshUnlessAwaited` (makeStatusReporter's), a write may be held back (above). */
    private readonly reporter: StatusRefresher & Partial<Pick<CoalescingStatusReporter, 'refreshUnlessAwaited'>>,
    private readonly log: Log,
    /** Reads stored reports for the check above; without it every ask refreshes. */
    private readonly snapshot?: ObjectSnapshotReader,
    /** Sends held refreshes' re-runs; without it nothing is held back. */
    private readonly schedule?: ScheduleRefreshes,
  ) {}

  refresh(ref: ObjectRef, follows?: ReportFollows, rerun?: StatusMessage): Promise<void> {
    const key = objectKey(ref);
    const entry = this.pending.get(key) ?? { ref, always: false, follows: [], rerun, mayHold: true };
    if (follows && this.snapshot) entry.follows.push(follows);
    else entry.always = true;
    entry.mayHold &&= rerun !== undefined;
    this.pending.set(key, entry);
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    const entries = [...this.pending.values()];
    this.pending.clear();
    const held: Pending[] = [];
    // Every object of the batch at once (at most one per message: ten with the sync queue's batch size). Lambda bills
    // the invocation's wall time, and a bound here made a batch of more objects than it wait for refreshes in waves.
    await Promise.all(
      entries.map(async (entry) => {
        try {
          const coalescing = this.coalescing();
          if (!entry.always) {
            if (!(await this.reportedAlready(entry))) return;
            // The report raced ahead: status-up's refresh of it may have read this apply's record or not. Its re-run
            // reads after this record was stored; refreshing here too only collided with status-up's (409s).
            if (coalescing && entry.mayHold) {
              held.push(entry);
              return;
            }
          }
          if (coalescing && entry.mayHold) {
            if ((await coalescing.refreshUnlessAwaited(entry.ref)).awaiting) held.push(entry);
          } else await this.reporter.refresh(entry.ref);
        } catch (err) {
          this.warnNotRefreshed(entry, err);
        }
      }),
    );
    if (held.length) await this.scheduleReruns(held);
  }

  private coalescing(): Pick<CoalescingStatusReporter, 'refreshUnlessAwaited'> | undefined {
    const refreshUnlessAwaited = this.reporter.refreshUnlessAwaited?.bind(this.reporter);
    return this.schedule && refreshUnlessAwaited ? { refreshUnlessAwaited } : undefined;
  }

  /** Every held refresh's re-run in one send; if it fails, each is written now rather than left to nothing. */
  private async scheduleReruns(held: Pending[]): Promise<void> {
    try {
      await this.schedule?.(held.flatMap((entry) => (entry.rerun ? [entry.rerun] : [])));
      return;
    } catch (err) {
      this.log.warn('Could not queue the re-runs of held-back status refreshes: writing them now', {
        error: String(err),
      });
    }
    await Promise.all(
      held.map((entry) => this.reporter.refresh(entry.ref).catch((err: unknown) => this.warnNotRefreshed(entry, err))),
    );
  }

  private warnNotRefreshed(entry: Pending, err: unknown): void {
    this.log.warn(`Could not refresh the status of ${describeRef(entry.ref)} after applying it`, {
      error: String(err),
    });
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
