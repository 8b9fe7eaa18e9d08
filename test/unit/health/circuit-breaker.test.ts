import { CircuitBreaker } from '../../../lib/errors/circuit-breaker';
import { ClusterUnavailableError, ClusterUnreachableError, ValidationError } from '../../../lib/errors/tmc-error';
import { InMemoryCircuitStore, type CircuitRecord, type CircuitStore } from '../../../lib/ports/circuit-store';

/**
 * The in-memory store with its calls held until released: each get answers with the record as it was when the get
 * was sent (as a DynamoDB read does), and a held compareAndSet runs only when released.
 */
class HeldStore implements CircuitStore {
  holdGets = true;
  holdWrites = true;
  compareAndSets = 0;
  private readonly heldGets: Array<() => void> = [];
  private readonly heldWrites: Array<() => void> = [];

  constructor(readonly inner: InMemoryCircuitStore) {}

  get(cluster: string): Promise<CircuitRecord | undefined> {
    const answer = this.inner.get(cluster);
    return this.holdGets ? new Promise((resolve) => this.heldGets.push(() => resolve(answer))) : answer;
  }

  compareAndSet(next: CircuitRecord, expectedVersion: number): Promise<boolean> {
    this.compareAndSets += 1;
    const write = (): Promise<boolean> => this.inner.compareAndSet(next, expectedVersion);
    return this.holdWrites ? new Promise((resolve) => this.heldWrites.push(() => resolve(write()))) : write();
  }

  pendingGets(): number {
    return this.heldGets.length;
  }

  /** Releases the oldest held get (or write) and lets everything it sets off run until it waits again. */
  async releaseGet(): Promise<void> {
    this.heldGets.shift()?.();
    await settle();
  }

  async releaseWrite(): Promise<void> {
    this.heldWrites.shift()?.();
    await settle();
  }
}

/** Lets every promise continuation already queued run (the breaker's awaits are all on settled or held promises). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

describe('CircuitBreaker (in memory)', () => {
  let now = 0;
  const clock = (): number => now;
  beforeEach(() => {
    now = Date.parse('2026-01-01T00:00:00Z');
  });

  it('costs no store I/O on the hot path (closed, successes)', async () => {
    const store = new InMemoryCircuitStore();
    const get = jest.spyOn(store, 'get');
    const breaker = new CircuitBreaker({ store, now: clock });
    for (let i = 0; i < 50; i += 1) {
      expect((await breaker.allow('east')).allowed).toBe(true);
      await breaker.recordSuccess('east');
    }
    expect(get).toHaveBeenCalledTimes(1); // one read, then cached for cacheTtlMs
    expect(store.writes).toBe(0);
    now += 2_000;
    await breaker.allow('east');
    expect(get).toHaveBeenCalledTimes(2);
  });

  it('concurrent misses for one cluster share one read (single flight), one per cluster', async () => {
    const store = new InMemoryCircuitStore();
    const get = jest.spyOn(store, 'get');
    const breaker = new CircuitBreaker({ store, now: clock });
    // A batch of sync messages: every one asks before the first read has answered.
    const decisions = await Promise.all([
      ...Array.from({ length: 20 }, () => breaker.allow('east')),
      ...Array.from({ length: 5 }, () => breaker.allow('west')),
    ]);
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(get.mock.calls.map(([cluster]) => cluster).sort()).toEqual(['east', 'west']);
    // Once the shared read has settled, a miss after the cache expired reads again.
    now += 2_000;
    await Promise.all([breaker.allow('east'), breaker.recordSuccess('east')]);
    expect(get).toHaveBeenCalledTimes(3);
  });

  it('a read after a lost compare-and-set does not join a read sent before the write it lost to', async () => {
    const held = new HeldStore(new InMemoryCircuitStore());
    const b = new CircuitBreaker({ store: held, failureThreshold: 3, cacheTtlMs: 0, now: clock });
    const a = new CircuitBreaker({ store: held.inner, failureThreshold: 3, cacheTtlMs: 0, now: clock });
    const down = new ClusterUnreachableError('connect ECONNREFUSED');

    const failure = b.recordFailure('east', down); // reads: no circuit yet
    await held.releaseGet(); // ... and sends its write, held
    const allowed = b.allow('east'); // a second read, sent now and held: it will answer "no circuit"
    expect(held.pendingGets()).toBe(1);
    await a.recordFailure('east', down); // another container's failure lands first
    held.holdGets = false;
    held.holdWrites = false;
    await held.releaseWrite(); // b's write loses; it must read afresh, not take the held read's stale answer
    await held.releaseGet();
    expect(await failure).toBe('closed');
    expect(await allowed).toMatchObject({ allowed: true });
    expect((await held.inner.get('east'))?.failures).toBe(2);
    expect(held.compareAndSets).toBe(2); // joining the held read would have cost a second lost write
  });

  it('a read that answers after a newer record was seen does not put the older one back in the cache', async () => {
    const held = new HeldStore(new InMemoryCircuitStore());
    held.holdWrites = false;
    const b = new CircuitBreaker({ store: held, failureThreshold: 1, now: clock });
    const a = new CircuitBreaker({ store: held.inner, failureThreshold: 1, now: clock });

    const early = b.allow('east'); // its read is sent now, before the circuit opens, and answers last
    await a.recordFailure('east', new ClusterUnreachableError('connect ECONNREFUSED'));
    held.holdGets = false;
    expect(await b.current('east')).toMatchObject({ state: 'open', version: 1 }); // a fresh read sees it open
    await held.releaseGet(); // the early read answers: no circuit
    expect(await early).toMatchObject({ allowed: false, state: 'open' });
    // Cached, not re-read: still open (caching the early answer would let messages through for cacheTtlMs).
    const get = jest.spyOn(held, 'get');
    expect(await b.allow('east')).toMatchObject({ allowed: false, state: 'open' });
    expect(get).not.toHaveBeenCalled();
  });

  it.each([
    ['unreachable counts', new ClusterUnreachableError('down'), 'open'],
    ['unavailable (5xx) counts', new ClusterUnavailableError('503'), 'open'],
    ['validation does not count', new ValidationError('bad'), 'closed'],
    ['unknown errors do not count', new Error('boom'), 'closed'],
  ])('%s', async (_name, err, state) => {
    const breaker = new CircuitBreaker({ store: new InMemoryCircuitStore(), failureThreshold: 2, now: clock });
    await breaker.recordFailure('east', err);
    expect(await breaker.recordFailure('east', err)).toBe(state);
  });

  it('tells the consumer how long to defer', async () => {
    const breaker = new CircuitBreaker({
      store: new InMemoryCircuitStore(),
      failureThreshold: 1,
      openIntervalMs: 30_000,
      now: clock,
    });
    await breaker.recordFailure('east', new ClusterUnreachableError('down'));
    now += 12_300;
    expect(await breaker.allow('east')).toMatchObject({ allowed: false, state: 'open', retryAfterSeconds: 18 });
  });

  it('resets the count on success so failures must be consecutive', async () => {
    const store = new InMemoryCircuitStore();
    const breaker = new CircuitBreaker({ store, failureThreshold: 3, now: clock });
    await breaker.recordFailure('east', new ClusterUnreachableError('x'));
    await breaker.recordFailure('east', new ClusterUnreachableError('x'));
    await breaker.recordSuccess('east');
    expect(await breaker.recordFailure('east', new ClusterUnreachableError('x'))).toBe('closed');
    expect((await store.get('east'))?.failures).toBe(1);
  });
});
