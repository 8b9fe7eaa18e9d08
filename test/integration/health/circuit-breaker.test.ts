import { DynamoCircuitStore } from '../../../lib/adapters/dynamodb/circuit-store';
import { CircuitBreaker } from '../../../lib/errors/circuit-breaker';
import { ClusterUnreachableError, NotFoundError } from '../../../lib/errors/tmc-error';
import { countRequests, startLocalTable, type LocalTable } from './local-table';

describe('CircuitBreaker shared by two containers through DynamoDB (dynalite)', () => {
  let table: LocalTable;
  let now: number;
  const clock = (): number => now;

  beforeAll(async () => {
    table = await startLocalTable();
  });
  afterAll(async () => {
    await table.close();
  });
  beforeEach(() => {
    now = Date.parse('2025-01-01T00:00:00Z');
  });

  function container(id: string): CircuitBreaker {
    // Caching off: these tests interleave the two containers call by call; the cache is covered in the unit tests.
    return new CircuitBreaker({
      store: new DynamoCircuitStore(table.doc, table.tableName),
      failureThreshold: 3,
      openIntervalMs: 10_000,
      cacheTtlMs: 0,
      now: clock,
      instanceId: id,
    });
  }

  it('opens for both after failures in one, allows exactly one half-open probe across both, and closes on success', async () => {
    const a = container('a');
    const b = container('b');
    const down = new ClusterUnreachableError('connect ECONNREFUSED', { cluster: 'east' });

    expect(await a.allow('east')).toEqual({ allowed: true, state: 'closed', probe: false });
    expect(await a.recordFailure('east', down)).toBe('closed');
    expect(await b.recordFailure('east', down)).toBe('closed');
    expect(await a.recordFailure('east', down)).toBe('open');

    const deniedB = await b.allow('east');
    expect(deniedB).toMatchObject({ allowed: false, state: 'open', retryAfterSeconds: 10 });

    now += 10_001;
    const [fromA, fromB] = await Promise.all([a.allow('east'), b.allow('east')]);
    const probes = [fromA, fromB].filter((d) => d.allowed);
    expect(probes).toHaveLength(1);
    expect(probes[0]).toMatchObject({ allowed: true, state: 'half-open', probe: true });
    expect([fromA, fromB].find((d) => !d.allowed)).toMatchObject({ allowed: false, state: 'half-open' });

    const prober = fromA.allowed ? a : b;
    const other = fromA.allowed ? b : a;
    await prober.recordSuccess('east');
    expect(await other.allow('east')).toEqual({ allowed: true, state: 'closed', probe: false });
    expect((await other.current('east'))?.failures).toBe(0);
  });

  it('reopens when the half-open probe fails, and only counted categories open it', async () => {
    const a = container('a');
    const b = container('b');
    for (let i = 0; i < 5; i += 1) await a.recordFailure('west', new NotFoundError('gone'));
    expect(await b.allow('west')).toMatchObject({ allowed: true, state: 'closed' });

    for (let i = 0; i < 3; i += 1) await b.recordFailure('west', new ClusterUnreachableError('timeout'));
    now += 10_001;
    const probe = await a.allow('west');
    expect(probe).toMatchObject({ allowed: true, probe: true });
    expect(await a.recordFailure('west', new ClusterUnreachableError('still down'))).toBe('open');
    expect(await b.allow('west')).toMatchObject({ allowed: false, state: 'open', retryAfterSeconds: 10 });
  });

  it('a batch of messages for three clusters costs three GetItems, one per cluster (single flight)', async () => {
    const { requests, stop } = countRequests(table.doc);
    try {
      const breaker = new CircuitBreaker({ store: new DynamoCircuitStore(table.doc, table.tableName), now: clock });
      const clusters = ['c-east', 'c-west', 'c-north'];
      const decisions = await Promise.all(clusters.flatMap((c) => Array.from({ length: 10 }, () => breaker.allow(c))));
      expect(decisions.every((d) => d.allowed)).toBe(true);
      await Promise.all(clusters.map((c) => breaker.recordSuccess(c)));
      expect(requests).toEqual(['GetItemCommand', 'GetItemCommand', 'GetItemCommand']);
    } finally {
      stop();
    }
  });

  it('lets another container take over a probe whose holder never reported', async () => {
    const a = new CircuitBreaker({
      store: new DynamoCircuitStore(table.doc, table.tableName),
      failureThreshold: 1,
      openIntervalMs: 1_000,
      probeTimeoutMs: 5_000,
      cacheTtlMs: 0,
      now: clock,
    });
    const b = new CircuitBreaker({
      store: new DynamoCircuitStore(table.doc, table.tableName),
      failureThreshold: 1,
      openIntervalMs: 1_000,
      probeTimeoutMs: 5_000,
      cacheTtlMs: 0,
      now: clock,
    });
    await a.recordFailure('north', new ClusterUnreachableError('down'));
    now += 1_001;
    expect(await a.allow('north')).toMatchObject({ allowed: true, probe: true });
    expect(await b.allow('north')).toMatchObject({ allowed: false, state: 'half-open' });
    now += 5_001;
    expect(await b.allow('north')).toMatchObject({ allowed: true, probe: true });
  });
});
