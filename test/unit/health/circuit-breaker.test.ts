import { CircuitBreaker } from '../../../lib/errors/circuit-breaker';
import { ClusterUnavailableError, ClusterUnreachableError, ValidationError } from '../../../lib/errors/tmc-error';
import { InMemoryCircuitStore } from '../../../lib/ports/circuit-store';

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
    const breaker = new CircuitBreaker({ store: new InMemoryCircuitStore(), failureThreshold: 1, openIntervalMs: 30_000, now: clock });
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
