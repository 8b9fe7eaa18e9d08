import { makeBatchedInvocationRecorder } from '../../../lib/health/record-invocation';
import { InMemoryHealthStore, type HealthStore, type InvocationOutcome } from '../../../lib/ports/health-store';

/** A health store that remembers every write, so the test can count them. */
function countingStore(): { store: HealthStore; writes: InvocationOutcome[]; fail: { next: boolean } } {
  const inner = new InMemoryHealthStore();
  const writes: InvocationOutcome[] = [];
  const fail = { next: false };
  const store = Object.assign(Object.create(inner) as HealthStore, {
    recordInvocation: async (component: string, outcome: InvocationOutcome): Promise<void> => {
      if (fail.next) {
        fail.next = false;
        throw new Error('throttled');
      }
      writes.push(outcome);
      await inner.recordInvocation(component, outcome);
    },
    getComponent: (component: string) => inner.getComponent(component),
  });
  return { store, writes, fail };
}

describe('makeBatchedInvocationRecorder', () => {
  it('writes the first invocation at once, then at most once per interval with the counts in between', async () => {
    let now = 0;
    const { store, writes } = countingStore();
    const record = makeBatchedInvocationRecorder(store, { intervalMs: 10_000, now: () => now });
    await record('placement', true);
    for (let i = 0; i < 50; i++) {
      now += 100;
      await record('placement', true);
    }
    expect(writes).toHaveLength(1);
    now = 10_000;
    await record('placement', true);
    expect(writes.map((w) => [w.invocations, w.errors])).toEqual([
      [1, 0],
      [51, 0],
    ]);
    expect((await store.getComponent('placement'))?.invocations).toBe(52);
  });

  it('writes the first failure after successes at once, and counts every error', async () => {
    let now = 0;
    const { store, writes } = countingStore();
    const record = makeBatchedInvocationRecorder(store, { intervalMs: 10_000, now: () => now });
    await record('sync-apply', true);
    now = 1_000;
    await record('sync-apply', true);
    now = 2_000;
    await record('sync-apply', false);
    now = 3_000;
    await record('sync-apply', false);
    expect(writes.map((w) => [w.ok, w.invocations, w.errors])).toEqual([
      [true, 1, 0],
      [false, 2, 1],
    ]);
    now = 12_000;
    await record('sync-apply', true);
    expect(writes.at(-1)).toMatchObject({ ok: true, invocations: 2, errors: 1 });
    const stored = await store.getComponent('sync-apply');
    expect([stored?.invocations, stored?.errors]).toEqual([5, 2]);
  });

  it('keeps the counts of a write that failed for the next one', async () => {
    let now = 0;
    const { store, writes, fail } = countingStore();
    const errors: unknown[] = [];
    const record = makeBatchedInvocationRecorder(store, {
      intervalMs: 1_000,
      now: () => now,
      onError: (e) => errors.push(e),
    });
    fail.next = true;
    await record('ingress', true);
    expect(errors).toHaveLength(1);
    now = 2_000;
    await record('ingress', true);
    expect(writes.map((w) => w.invocations)).toEqual([2]);
  });
});
