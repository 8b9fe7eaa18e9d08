import type { QueueMessage } from '../api/messages';
import { describeRef } from '../api/object-ref';
import type { WorkQueue } from '../ports/work-queue';

/** SendMessageBatch's entry limit: a send of fewer entries than this wastes part of a request. */
const CHUNK = 10;

/** One message of an invocation whose sends did not all go out. */
export interface Undelivered {
  /** The object the first lost message was about, for the log line. */
  object: string;
  error: unknown;
}

/**
 * The sync messages of one placement invocation, sent together: each object's reconcile "sends" into a buffer, and
 * the buffer goes out in chunks of ten at once, or whole as soon as no reconcile that has started is still to send
 * (every one has sent or finished), so a batch of objects × 3 clusters costs about a third of the SendMessageBatch
 * requests of one per object, and a message never waits for more than its running neighbours (a batch of one sends at
 * once: the latency path is unchanged). A placement message is reported done only when `flush` found every message it
 * sent delivered; otherwise the handler fails it and its retry (receiveCount > 1) resends its applies, as after any
 * failed send.
 *
 * Written by hand: DataLoader-style batchers gather the calls of one tick, but an invocation's reconciles send over
 * many ticks, and a failed chunk must fail exactly the placement messages it carried.
 */
export class GatheredSends<M extends QueueMessage> {
  private buffer: Array<{ owner: string; message: M }> = [];
  private readonly sending: Array<Promise<void>> = [];
  private readonly undelivered = new Map<string, Undelivered>();
  /** Owners that have started and neither sent nor ended: the buffer waits for them only. */
  private readonly toSend = new Set<string>();

  constructor(private readonly queue: WorkQueue<M>) {}

  /** One placement message starts: the queue its reconcile sends through (`owner` is that message's id). */
  begin(owner: string): WorkQueue<M> {
    this.toSend.add(owner);
    return {
      name: this.queue.name,
      send: async (messages, options) => {
        // A delayed send is not one of these; nothing in placement sends one, but it must not lose its delay.
        if (options?.delaySeconds !== undefined) return this.queue.send(messages, options);
        for (const message of messages) this.buffer.push({ owner, message });
        this.toSend.delete(owner);
        this.dispatchReady();
      },
    };
  }

  /** The placement message's reconcile returned or threw: it sends nothing more worth waiting for. */
  end(owner: string): void {
    this.toSend.delete(owner);
    this.dispatchReady();
  }

  /** Sends what is left, waits for every send, and names the owners whose messages did not all go out. */
  async flush(): Promise<ReadonlyMap<string, Undelivered>> {
    if (this.buffer.length > 0) this.dispatch(this.buffer.splice(0));
    await Promise.all(this.sending);
    return this.undelivered;
  }

  private dispatchReady(): void {
    while (this.buffer.length >= CHUNK) this.dispatch(this.buffer.splice(0, CHUNK));
    if (this.toSend.size === 0 && this.buffer.length > 0) this.dispatch(this.buffer.splice(0));
  }

  private dispatch(items: Array<{ owner: string; message: M }>): void {
    const sent = this.queue.send(items.map((i) => i.message)).catch((error: unknown) => {
      for (const { owner, message } of items)
        if (!this.undelivered.has(owner)) this.undelivered.set(owner, { object: describeRef(message.ref), error });
    });
    this.sending.push(sent);
  }
}
