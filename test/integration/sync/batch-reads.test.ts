import { SYNC_FINALIZER } from '../../../lib/api/labels';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { BatchSyncState } from '../../../lib/sync/batch-sync-state';
import { StaleGenerationError } from '../../../lib/errors/tmc-error';
import { FakeConnector } from './fake-kube';
import { countsSince, refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from './world';

const WS = 'root:batch';
const CLUSTERS = ['east', 'west', 'edge'];

const deploymentSpec = {
  replicas: 1,
  selector: { matchLabels: { app: 'web' } },
  template: {
    metadata: { labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'nginx', envFrom: [{ configMapRef: { name: 'web-config' } }] }] },
  },
};

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    uid: 'uid-web',
    generation: 1,
    resourceVersion: '101',
    finalizers: [SYNC_FINALIZER],
  },
  spec: deploymentSpec,
};
const configMap: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'web-config', namespace: 'default', uid: 'uid-cm' },
  data: { A: '1' },
};

/** One sync-apply invocation reads what its batch needs in one BatchGetItem and writes one item per applied pair. */
describe('sync-apply batch reads (dynalite)', () => {
  let world: SyncWorld;
  let kube: FakeConnector;
  const ref = refOf(WS, deployment, 'apps', 'deployments');
  const cmRef = refOf(WS, configMap, '', 'configmaps');

  beforeEach(async () => {
    world = await startSyncWorld();
    kube = new FakeConnector();
    kube.kcpOf(WS).put('deployments', deployment);
    kube.kcpOf(WS).put('configmaps', configMap);
    await world.putDecision(
      ref,
      1,
      CLUSTERS.map((name) => ({ name })),
    );
    await world.putDecision(
      cmRef,
      1,
      CLUSTERS.map((name) => ({ name })),
    );
  });
  afterEach(async () => world.close());

  it('a batch of one object for three clusters: one BatchGetItem, no GetItem for what it named, no trace write', async () => {
    // No status reporter: its reads are its own (lib/sync/status), not what this batch reads ahead.
    const handler = makeSyncApplyHandler({ ...world.applyDeps(kube), status: undefined });
    const from = world.dynamoRequests.length;
    const response = await handler(sqsEvent(CLUSTERS.map((c) => syncMessage(ref, c, 1, { object: deployment }))));
    expect(response.batchItemFailures).toEqual([]);
    // The read ahead covers the decision, each pair's record, the namespace's and the ConfigMap's records per cluster;
    // only the ConfigMap's decision, needed because it is not applied yet, is read on its own (once for the batch).
    // Writes: per cluster the namespace, the ConfigMap and the Deployment; the sync items carry the change's trace id
    // (`tmc trace` reads its applied steps there), so no trace item is written.
    expect(countsSince(world, from)).toEqual({ BatchGetItemCommand: 1, GetItemCommand: 1, PutItemCommand: 9 });
    const records = await world.syncState.listForObject(ref);
    expect(records.map((r) => [r.cluster, r.state, r.traceId]).sort()).toEqual(
      CLUSTERS.map((c) => [c, 'applied', 't-1']).sort(),
    );

    // The same batch again on a fresh container: everything is read in one request and nothing is written.
    const resync = makeSyncApplyHandler({ ...world.applyDeps(kube), status: undefined });
    const again = world.dynamoRequests.length;
    const writes = kube.clusterOf('east').writes();
    expect(
      (await resync(sqsEvent(CLUSTERS.map((c) => syncMessage(ref, c, 1, { object: deployment }))))).batchItemFailures,
    ).toEqual([]);
    expect(countsSince(world, again)).toEqual({ BatchGetItemCommand: 1 });
    expect(kube.clusterOf('east').writes()).toBe(writes);
  });

  it('refreshes the kcp object once for the batch, after all three clusters were applied', async () => {
    const seen: string[][] = [];
    const dependencies: string[] = [];
    const status = {
      refresh: async (r: typeof ref): Promise<void> => {
        // The ConfigMap applied as the Deployment's dependency ahead of its own message gets its own refresh.
        if (r.name !== ref.name) return void dependencies.push(r.name);
        // What the one refresh sees: every cluster already recorded as applied.
        const records = await world.syncState.listForObject(r);
        seen.push(
          records
            .filter((rec) => rec.state === 'applied')
            .map((rec) => rec.cluster)
            .sort(),
        );
      },
    };
    const handler = makeSyncApplyHandler({ ...world.applyDeps(kube), status });
    const response = await handler(sqsEvent(CLUSTERS.map((c) => syncMessage(ref, c, 1, { object: deployment }))));
    expect(response.batchItemFailures).toEqual([]);
    expect(seen).toEqual([[...CLUSTERS].sort()]);
    expect(dependencies).toEqual(['web-config']);
  });

  it('refreshes kcp again after a new generation is applied, not after a re-apply of the same one', async () => {
    const asked: string[] = [];
    const status = { refresh: async (r: typeof ref): Promise<void> => void asked.push(r.name) };
    const handler = makeSyncApplyHandler({ ...world.applyDeps(kube), status });
    const batch = (object: KubeObject): ReturnType<typeof sqsEvent> =>
      sqsEvent(CLUSTERS.map((c) => syncMessage(ref, c, 1, { object })));
    expect((await handler(batch(deployment))).batchItemFailures).toEqual([]);
    // Its ConfigMap, first applied as its dependency, is refreshed once too (never again while it is unchanged).
    expect(asked).toEqual(['web-config', 'web']);
    // Generation 2: the clusters' status for it may already have been aggregated against generation 1.
    const updated: KubeObject = {
      ...deployment,
      metadata: { ...deployment.metadata, generation: 2, resourceVersion: '102' },
      spec: { ...deploymentSpec, replicas: 2 },
    };
    kube.kcpOf(WS).put('deployments', updated);
    expect((await handler(batch(updated))).batchItemFailures).toEqual([]);
    expect(asked).toEqual(['web-config', 'web', 'web']);
    // The same generation again changes nothing downstream and asks for nothing.
    expect((await handler(batch(updated))).batchItemFailures).toEqual([]);
    expect(asked).toEqual(['web-config', 'web', 'web']);
  });

  it('answers prefetched keys from memory, keeps its own writes and forgets a key whose write lost', async () => {
    const state = new BatchSyncState(world.syncState);
    await state.prefetch([syncMessage(ref, 'east', 1, { object: deployment })], new Set());
    const from = world.dynamoRequests.length;
    expect(await state.decision(ref)).toEqual({ decisionVersion: 1, clusters: CLUSTERS.map((name) => ({ name })) });
    expect(await state.get(ref, 'east')).toBeUndefined();
    expect(await state.get(cmRef, 'east')).toBeUndefined(); // a dependency of the carried Deployment
    expect(world.dynamoRequests.length).toBe(from);

    const record = {
      ref,
      cluster: 'east',
      state: 'applied' as const,
      decisionVersion: 2,
      appliedGeneration: 1,
      appliedHash: 'h',
      updatedAt: new Date().toISOString(),
    };
    await state.put(record);
    expect(await state.get(ref, 'east')).toEqual(record);
    // Another container records a newer decision's apply; this invocation's older write loses and is forgotten.
    await world.syncState.put({ ...record, decisionVersion: 3, appliedHash: 'newer' });
    await expect(state.put({ ...record, appliedHash: 'older' })).rejects.toBeInstanceOf(StaleGenerationError);
    const reads = world.dynamoRequests.length;
    expect((await state.get(ref, 'east'))?.appliedHash).toBe('newer');
    expect(world.dynamoRequests.slice(reads)).toEqual(['GetItemCommand']);
  });

  it('readMany chunks past 100 keys, names a key twice only once, and answers absent keys as undefined', async () => {
    const refs = Array.from({ length: 130 }, (_, i) => ({ ...cmRef, name: `cm-${i}` }));
    const at = new Date().toISOString();
    for (const r of refs.slice(0, 3))
      await world.syncState.put({
        ref: r,
        cluster: 'east',
        state: 'applied',
        decisionVersion: 1,
        appliedGeneration: 0,
        appliedHash: r.name,
        updatedAt: at,
      });
    const from = world.dynamoRequests.length;
    const reads = await world.syncState.readMany({
      decisions: [ref, ref],
      records: [...refs, refs[0]].map((r) => ({ ref: r, cluster: 'east' })),
    });
    expect(world.dynamoRequests.slice(from)).toEqual(['BatchGetItemCommand', 'BatchGetItemCommand']);
    expect(reads.records.size).toBe(130);
    expect([...reads.records.values()].filter((r) => r !== undefined).map((r) => r?.appliedHash)).toEqual(
      expect.arrayContaining(['cm-0', 'cm-1', 'cm-2']),
    );
    expect([...reads.records.values()].filter((r) => r === undefined)).toHaveLength(127);
    expect([...reads.decisions.values()]).toEqual([
      { decisionVersion: 1, clusters: CLUSTERS.map((name) => ({ name })) },
    ]);
  });

  it('reads a key it did not prefetch from the table, once', async () => {
    const state = new BatchSyncState(world.syncState);
    const from = world.dynamoRequests.length;
    const [a, b] = await Promise.all([state.decision(cmRef), state.decision(cmRef)]);
    expect(a).toEqual(b);
    expect(world.dynamoRequests.slice(from)).toEqual(['GetItemCommand']);
  });
});
