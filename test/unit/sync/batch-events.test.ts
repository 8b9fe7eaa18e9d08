import type { EventRecorder, ObjectEvent } from '../../../lib/ports/event-recorder';
import { BatchEvents } from '../../../lib/sync/batch-events';
import * as build from '../../support/builders';

const ref = build.ref('root:a', build.TYPES.configmaps, 'web');
const applied = (cluster: string): ObjectEvent => ({
  type: 'Normal',
  reason: 'Applied',
  message: `Applied to ${cluster}`,
});

/** A recorder whose writes finish only when the test says so. */
function heldRecorder(): { recorder: EventRecorder; started: string[]; finish: (err?: Error) => void } {
  const started: string[] = [];
  const waiting: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  return {
    started,
    recorder: {
      record: (_ref, event) => {
        started.push(event.message);
        return new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
      },
    },
    finish: (err) => {
      for (const w of waiting.splice(0)) {
        if (err) w.reject(err);
        else w.resolve();
      }
    },
  };
}

describe('BatchEvents', () => {
  it('starts each write when recorded, returns before it is written, and settles once every write is', async () => {
    const held = heldRecorder();
    const events = new BatchEvents(held.recorder, () => undefined);
    await events.record(ref, applied('east'));
    await events.record(ref, applied('west'));
    expect(held.started).toEqual(['Applied to east', 'Applied to west']);
    let settled = false;
    const settling = events.settle().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    held.finish();
    await settling;
    expect(settled).toBe(true);
  });

  it("hands a failed write to onError and still settles: an Event never fails the batch's work", async () => {
    const held = heldRecorder();
    const errors: unknown[] = [];
    const events = new BatchEvents(held.recorder, (err) => errors.push(err));
    await events.record(ref, applied('east'));
    held.finish(new Error('kcp unavailable'));
    await events.settle();
    expect(errors).toEqual([new Error('kcp unavailable')]);
  });
});
