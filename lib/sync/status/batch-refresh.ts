import { objectKey, type ObjectRef } from '../../api/object-ref';
import type { StatusMessage } from '../../api/messages';
import type { WorkQueue } from '../../ports/work-queue';
import type { CoalescingStatusReporter, StatusReport, StatusReporter } from './report-status';

interface Pending {
  ref: ObjectRef;
  /** When every asker allows it: the re-run message of the first (its cluster and trace). */
  rerun: StatusMessage | undefined;
  mayDefer: boolean;
  waiters: Array<{ resolve: (report: StatusReport) => void; reject: (err: unknown) => void }>;
}

/**
 * When a held-back refresh runs again: long enough for the reports it waits for (sent by the clusters moments after
 * its own) to be stored and written by the last one's refresh, which leaves the re-run nothing to write.
 */
export const RERUN_DELAY_SECONDS = 5;

/**
 * Sends the plain refreshes that held-back refreshes owe (a delayed message each on the status queue, which status-up
 * runs as a refresh that never holds back); resolves once the queue has them.
 */
export type ScheduleRefreshes = (reruns: StatusMessage[]) => Promise<void>;

/**
 * How long before a queued re-run can run a later held refresh of its object still counts on it: the re-run must
 * read the table after the later refresh's state was stored, and SQS never delivers a delayed message early.
 */
const RERUN_MARGIN_MS = 1000;

/**
 * The re-runs of one container (make one per container, not per invocation): each sent to `queue` delayed by
 * RERUN_DELAY_SECONDS, except for an object whose re-run this container queued and which cannot run for another
 * RERUN_MARGIN_MS. That re-run does what a second one would: it reads the table after every state stored until now
 * (strongly consistent) and never holds back; so an object whose reports arrive one a batch costs one re-run message,
 * not one per batch. Only a send that succeeded counts; a failed one is thrown to the caller, as before.
 */
export function scheduleReruns(queue: WorkQueue<StatusMessage>, now: () => number = Date.now): ScheduleRefreshes {
  /** objectKey → the earliest time its queued re-run can run. */
  const queued = new Map<string, number>();
  return async (reruns) => {
    const sentAt = now();
    for (const [key, runsAt] of queued) if (runsAt - RERUN_MARGIN_MS <= sentAt) queued.delete(key);
    const fresh = new Map<string, StatusMessage>();
    for (const rerun of reruns) {
      const key = objectKey(rerun.ref);
      if (!queued.has(key) && !fresh.has(key)) fresh.set(key, rerun);
    }
    if (fresh.size === 0) return;
    await queue.send([...fresh.values()], { delaySeconds: RERUN_DELAY_SECONDS });
    for (const key of fresh.keys()) queued.set(key, sentAt + RERUN_DELAY_SECONDS * 1000);
  };
}

/**
 * The refreshes asked for by the messages of one SQS batch, one per object. Each message runs as a `member`, stores
 * its state and asks; refreshing starts once every member still running has asked or finished, so the N messages of
 * one object in a batch (one per cluster, typically) cost one kcp read and at most one write of each kind, not N, and
 * that one refresh reads every member's state. Every asker gets its object's result (a failure fails them all, and
 * each message is retried as before).
 *
 * With a `schedule`, an asker may pass its re-run message: the refresh may then hold its write back while other
 * clusters' reports are on their way (CoalescingStatusReporter), and when it does, the re-run is on the queue before
 * any asker is answered. A held-back refresh never relies on another message to finish its work: if the awaited
 * report is lost, late or found stale, its own re-run (which never holds back) writes what the table holds then.
 *
 * Members wait for one another, so a member must not wait here while holding something another member needs (a
 * KeyedLock, say); status-up's messages hold nothing. A refresh asked outside any member runs at once, never held.
 */
export class BatchRefresh implements StatusReporter {
  private running = 0;
  private waiting = 0;
  private pending = new Map<string, Pending>();

  constructor(
    private readonly reporter: StatusReporter | CoalescingStatusReporter,
    private readonly schedule?: ScheduleRefreshes,
  ) {}

  /** Runs one message's handling as a member of the batch. */
  async member<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.flushWhenSettled();
    }
  }

  refresh(ref: ObjectRef): Promise<StatusReport> {
    return this.ask(ref, undefined);
  }

  /** {@link refresh}, allowing the write to wait for reports on their way; `rerun` comes back if it does. */
  refreshOrReschedule(ref: ObjectRef, rerun: StatusMessage): Promise<StatusReport> {
    return this.ask(ref, rerun);
  }

  private ask(ref: ObjectRef, rerun: StatusMessage | undefined): Promise<StatusReport> {
    if (this.running === 0) return this.reporter.refresh(ref);
    const key = objectKey(ref);
    let entry = this.pending.get(key);
    if (!entry) this.pending.set(key, (entry = { ref, rerun, mayDefer: true, waiters: [] }));
    entry.mayDefer &&= rerun !== undefined;
    const asked = entry;
    this.waiting++;
    const report = new Promise<StatusReport>((resolve, reject) => asked.waiters.push({ resolve, reject }));
    this.flushWhenSettled();
    return report;
  }

  /** Every running member is waiting: refresh each object asked for once (the reporter orders them per object). */
  private flushWhenSettled(): void {
    if (this.pending.size === 0 || this.waiting < this.running) return;
    const asked = [...this.pending.values()];
    this.pending = new Map();
    for (const entry of asked) this.waiting -= entry.waiters.length;
    void this.refreshAll(asked);
  }

  private async refreshAll(asked: Pending[]): Promise<void> {
    const reporter = this.reporter;
    const coalescing = this.schedule !== undefined && 'refreshUnlessAwaited' in reporter ? reporter : undefined;
    const outcomes = await Promise.allSettled(
      asked.map((entry) =>
        coalescing && entry.mayDefer ? coalescing.refreshUnlessAwaited(entry.ref) : reporter.refresh(entry.ref),
      ),
    );
    // Every held-back refresh's re-run goes out in one send before anyone is answered: a failed send fails those
    // askers, whose messages are then retried (and a retry never holds back).
    const held = asked.filter((entry, i) => {
      const outcome = outcomes[i];
      return outcome.status === 'fulfilled' && outcome.value.awaiting !== undefined;
    });
    let sendError: unknown;
    let sendFailed = false;
    if (held.length && this.schedule) {
      try {
        await this.schedule(held.flatMap((entry) => (entry.rerun ? [entry.rerun] : [])));
      } catch (err) {
        sendFailed = true;
        sendError = err;
      }
    }
    asked.forEach((entry, i) => {
      const outcome = outcomes[i];
      for (const { resolve, reject } of entry.waiters) {
        if (outcome.status === 'rejected') reject(outcome.reason);
        else if (sendFailed && outcome.value.awaiting !== undefined) reject(sendError);
        else resolve(outcome.value);
      }
    });
  }
}
