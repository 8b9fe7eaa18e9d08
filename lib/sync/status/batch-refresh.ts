import { objectKey, type ObjectRef } from '../../api/object-ref';
import type { StatusReport, StatusReporter } from './report-status';

interface Pending {
  ref: ObjectRef;
  waiters: Array<{ resolve: (report: StatusReport) => void; reject: (err: unknown) => void }>;
}

/**
 * The refreshes asked for by the messages of one SQS batch, one per object. Each message runs as a `member`, stores
 * its state and asks; refreshing starts once every member still running has asked or finished, so the N messages of
 * one object in a batch (one per cluster, typically) cost one kcp read and at most one write of each kind, not N, and
 * that one refresh reads every member's state. Every asker gets its object's result (a failure fails them all, and
 * each message is retried as before).
 *
 * Members wait for one another, so a member must not wait here while holding something another member needs (a
 * KeyedLock, say); status-up's messages hold nothing. A refresh asked outside any member runs at once.
 */
export class BatchRefresh implements StatusReporter {
  private running = 0;
  private waiting = 0;
  private pending = new Map<string, Pending>();

  constructor(private readonly reporter: StatusReporter) {}

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
    if (this.running === 0) return this.reporter.refresh(ref);
    const key = objectKey(ref);
    let entry = this.pending.get(key);
    if (!entry) this.pending.set(key, (entry = { ref, waiters: [] }));
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
    for (const { ref, waiters } of asked) {
      this.waiting -= waiters.length;
      const report = this.reporter.refresh(ref);
      for (const { resolve, reject } of waiters) report.then(resolve, reject);
    }
  }
}
