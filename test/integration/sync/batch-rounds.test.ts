import { trackIoRounds } from '../../../bench/support/io-rounds';
import { downstreamNamespace } from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { startSimServer, type SimServer } from '../../../lib/sim';
import { makeKcpEventRecorder } from '../../../lib/sync/kcp-event-recorder';
import { FakeConnector } from './fake-kube';
import { SimConnector } from './sim-connector';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from './world';
import * as build from '../../support/builders';

const WS = 'root:rounds';
const CLUSTERS = ['c0', 'c1', 'c2', 'c3', 'c4'];
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };

/**
 * Lambda bills an invocation's wall time, and most of sync-apply's is waiting for requests: a batch's round trips in
 * sequence (its critical path, bench/support/io-rounds.ts) are what it costs. Independent messages must not wait for
 * each other, nor for the batch's Events.
 */
describe('sync-apply: rounds of requests per batch (simulator + dynalite)', () => {
  let kcp: SimServer;
  const clusters: Record<string, SimServer> = {};
  let world: SyncWorld;
  let kube: SimConnector;
  let objects: Array<{ ref: ObjectRef; object: KubeObject }>;

  beforeAll(async () => {
    kcp = await startSimServer({ name: 'kcp', mode: 'kcp' });
    for (const name of CLUSTERS) clusters[name] = await startSimServer({ name, mode: 'cluster' });
    kcp.createLogicalCluster(WS);
    world = await startSyncWorld();
    kube = new SimConnector(kcp, clusters, 5 * 60_000);
    objects = [];
    for (const name of ['warm', 'a', 'b', 'c', 'd']) {
      const object = kcp.store(WS).create(CONFIGMAPS, build.configMap(name, { namespace: 'default' }));
      const ref = refOf(WS, object, '', 'configmaps');
      await world.putDecision(
        ref,
        1,
        CLUSTERS.map((cluster) => ({ name: cluster })),
      );
      objects.push({ ref, object });
    }
  });
  afterAll(async () => {
    kube.close();
    await world.close();
    await Promise.all([kcp.stop(), ...Object.values(clusters).map((c) => c.stop())]);
  });

  it('a batch of ten independent first applies (two objects × five clusters) runs them side by side: a handful of rounds, not one chain per message', async () => {
    const handler = makeSyncApplyHandler({
      ...world.applyDeps(kube),
      statusSnapshot: world.snapshot,
      events: makeKcpEventRecorder(kube),
    });
    const [warm, a, b] = objects;
    const pairs = [a, b];
    const batch = (items: typeof objects) =>
      handler(sqsEvent(items.flatMap(({ ref, object }) => CLUSTERS.map((c) => syncMessage(ref, c, 1, { object })))));
    // A warm container: the namespace made, discovery and connections cached, as for every batch after its first.
    expect(await batch([warm])).toEqual({ batchItemFailures: [] });
    const tracker = trackIoRounds();
    const response = await batch(pairs);
    const io = tracker.stop();
    expect(response).toEqual({ batchItemFailures: [] });
    // The work itself is unchanged: each pair applied once, its record written, its Event recorded.
    for (const name of CLUSTERS) {
      expect(clusters[name].requests.count({ verb: 'apply', resource: 'configmaps' })).toBe(3);
      const names = world.syncPuts.filter((r) => r.cluster === name && r.ref.resource === 'configmaps');
      expect(names.map((r) => r.ref.name).sort()).toEqual(['a', 'b', 'warm']);
    }
    expect(kcp.requests.count({ verb: 'apply', resource: 'events' })).toBe(15);
    // A first apply's critical path: the batch's read ahead; per message the ownership read, the apply, the new
    // copy's namespace check, the sync record; then the batch's status refreshes (a read of its reports, kcp's object,
    // the write) beside its Events (a read and a write). One message's chain, whatever the batch's size.
    expect(io.rounds.length).toBeLessThanOrEqual(16);
  });

  it('issues all ten applies of a batch before any of them is answered', async () => {
    const fake = new FakeConnector();
    const pairs = objects.slice(3);
    for (const { object } of pairs) fake.kcpOf(WS).put('configmaps', object);
    // Each cluster's ConfigMap apply waits until all ten are in flight (or a generous liveness limit passes, which a
    // batch worked a few messages at a time hits): the most in flight at once is the batch's fan-out.
    let inFlight = 0;
    let most = 0;
    let allIn!: () => void;
    const everyApply = new Promise<void>((resolve) => (allIn = resolve));
    for (const name of CLUSTERS) {
      const client = fake.clusterOf(name);
      // The namespace the first test made on the simulated clusters (its records say so).
      client.put('namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: downstreamNamespace(WS, 'default') },
      });
      const apply = client.apply.bind(client);
      client.apply = async (type, object) => {
        if (type.resource !== 'configmaps') return apply(type, object);
        most = Math.max(most, ++inFlight);
        if (inFlight === 10) allIn();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([everyApply, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
        clearTimeout(timer);
        inFlight--;
        return apply(type, object);
      };
    }
    const handler = makeSyncApplyHandler(world.applyDeps(fake));
    const messages = pairs.flatMap(({ ref, object }) => CLUSTERS.map((c) => syncMessage(ref, c, 1, { object })));
    expect(await handler(sqsEvent(messages))).toEqual({ batchItemFailures: [] });
    expect(most).toBe(10);
    for (const name of CLUSTERS) {
      const applied = fake.clusterOf(name).calls.filter((c) => c.verb === 'apply' && c.key.startsWith('configmaps|'));
      expect(applied).toHaveLength(2);
    }
  }, 60_000);
});
