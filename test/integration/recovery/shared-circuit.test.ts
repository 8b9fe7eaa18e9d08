import { DynamoCircuitStore } from '../../../lib/adapters/dynamodb/circuit-store';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { CircuitBreaker } from '../../../lib/errors/circuit-breaker';
import { makeSyncApplyHandler, type SyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { startSimServer, type SimServer } from '../../../lib/sim';
import { SimConnector } from '../sync/sim-connector';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from '../sync/world';

const WS = 'root:circuit';
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const OPEN_MS = 10_000;

/**
 * Issue 6: "Integration: the circuit breaker shared by two handler instances". Two sync-apply handlers — two Lambda
 * containers, each with its own breaker, kube clients and caches — share the circuit through DynamoDB (dynalite):
 * failures seen by one open it for both, the other then defers without sending a request, exactly one of them sends
 * the half-open probe, and its success closes the circuit for both.
 */
describe('sync-apply: one circuit per cluster shared by two handler instances', () => {
  let world: SyncWorld;
  let kcp: SimServer;
  let east: SimServer;
  const connectors: SimConnector[] = [];
  const refs: ObjectRef[] = [];
  let now = Date.parse('2026-01-01T00:00:00Z');

  function container(): SyncApplyHandler {
    const kube = new SimConnector(kcp, { east });
    connectors.push(kube);
    // No cache, so every decision is read from the shared item (the 1.5 s cache is covered by the unit tests).
    const breaker = new CircuitBreaker({
      store: new DynamoCircuitStore(world.doc, world.tableName),
      failureThreshold: 3,
      openIntervalMs: OPEN_MS,
      cacheTtlMs: 0,
      now: () => now,
    });
    return makeSyncApplyHandler({ ...world.applyDeps(kube), breaker });
  }
  const one = (i: number): ReturnType<typeof sqsEvent> => sqsEvent([syncMessage(refs[i], 'east', 1)]);

  beforeAll(async () => {
    world = await startSyncWorld();
    kcp = await startSimServer({ name: 'kcp', mode: 'kcp' });
    kcp.createLogicalCluster(WS);
    east = await startSimServer({ name: 'east', mode: 'cluster' });
    for (let i = 0; i < 8; i++) {
      const cm = kcp.store(WS).create(CONFIGMAPS, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i}`, namespace: 'default' },
        data: { i: String(i) },
      });
      refs.push(refOf(WS, cm, '', 'configmaps'));
      await world.putDecision(refs[i], 1, [{ name: 'east' }]);
    }
  });
  afterAll(async () => {
    for (const c of connectors) c.close();
    await world?.close();
    await Promise.all([kcp?.stop(), east?.stop()]);
  });

  it('opens for both after failures in one, defers the other without a request, probes once, closes for both', async () => {
    const a = container();
    const b = container();
    east.faults.set({ errorRate: 1, errorCode: 503 });

    // Container A meets three 503s: the third opens the circuit.
    for (let i = 0; i < 3; i++) expect(await a(one(i))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(east.requests.count()).toBe(3);

    // Container B never saw a failure, yet defers all its messages for the open interval and sends nothing.
    world.deferred.length = 0;
    const deferredByB = await b(sqsEvent([3, 4, 5].map((i) => syncMessage(refs[i], 'east', 1))));
    expect(deferredByB.batchItemFailures).toHaveLength(3);
    expect(world.deferred.map((d) => d.delaySeconds)).toEqual([OPEN_MS / 1000, OPEN_MS / 1000, OPEN_MS / 1000]);
    expect(east.requests.count()).toBe(3);
    // A too, for as long as the circuit is open.
    expect((await a(one(3))).batchItemFailures).toHaveLength(1);
    expect(east.requests.count()).toBe(3);

    // The interval passes and east answers again: of two containers asking at once, exactly one sends the probe.
    east.faults.clear();
    now += OPEN_MS + 1;
    const [fromA, fromB] = await Promise.all([a(one(4)), b(one(5))]);
    expect([fromA, fromB].map((r) => r.batchItemFailures.length).sort()).toEqual([0, 1]);
    expect(east.requests.count({ verb: 'apply', resource: 'configmaps' })).toBe(1);

    // Its success closed the circuit for both: each container applies at once again.
    expect(await b(one(6))).toEqual({ batchItemFailures: [] });
    expect(await a(one(7))).toEqual({ batchItemFailures: [] });
    expect(east.requests.count({ verb: 'apply', resource: 'configmaps' })).toBe(3);
  });
});
