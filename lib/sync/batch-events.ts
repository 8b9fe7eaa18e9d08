import type { ObjectRef } from '../api/object-ref';
import type { EventRecorder, ObjectEvent } from '../ports/event-recorder';

/**
 * One invocation's Events, written beside the rest of its work instead of in each message's chain: `record` starts
 * the write and returns at once, `settle` waits for every write started. Events are best effort (the recorder's own
 * errors end there), so nothing a message does waits for one; the invocation still ends only once they are written.
 */
export class BatchEvents implements EventRecorder {
  private readonly writes: Array<Promise<void>> = [];

  constructor(
    private readonly recorder: EventRecorder,
    private readonly onError: (err: unknown) => void,
  ) {}

  record(ref: ObjectRef, event: ObjectEvent): Promise<void> {
    this.writes.push(this.recorder.record(ref, event).catch(this.onError));
    return Promise.resolve();
  }

  async settle(): Promise<void> {
    await Promise.all(this.writes);
  }
}
