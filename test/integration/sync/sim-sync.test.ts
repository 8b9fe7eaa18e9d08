import {
  CLUSTER_STATUS_ANNOTATION_PREFIX,
  MANAGED_BY_LABEL,
  SYNC_FINALIZER,
  clusterStatusAnnotation,
  downstreamNamespace,
} from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { makeStatusUpHandler } from '../../../lib/runtime/status-up';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { startSimServer, type SimServer } from '../../../lib/sim';
import { SimConnector } from './sim-connector';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from './world';
import * as build from '../../support/builders';

const WS = 'root:team-a';
const OTHER = 'root:team-b';
const NS = 'default';
const CLUSTERS = ['east', 'west'];
const SECRET_VALUE = 'correct-horse-battery-staple';
const SECRET_B64 = Buffer.from(SECRET_VALUE).toString('base64');

const gvr = (
  group: string,
  version: string,
  resource: string,
): { group: string; version: string; resource: string } => ({ group, version, resource });
const DEPLOYMENTS = gvr('apps', 'v1', 'deployments');
const CONFIGMAPS = gvr('', 'v1', 'configmaps');
const SECRETS = gvr('', 'v1', 'secrets');
const NAMESPACES = gvr('', 'v1', 'namespaces');

function deployment(): KubeObject {
  return build.deployment('web', {
    namespace: NS,
    labels: { app: 'web' },
    replicas: 2,
    container: 'web',
    envFrom: [{ configMapRef: { name: 'web-config' } }, { secretRef: { name: 'web-secret' } }],
    metadata: { finalizers: [SYNC_FINALIZER] },
  });
}

describe('sync-apply and status-up against the simulator (kcp + two clusters, request counters)', () => {
  let kcp: SimServer;
  const clusters: Record<string, SimServer> = {};
  let world: SyncWorld;
  let kube: SimConnector;
  let dep: KubeObject;
  let depRef: ObjectRef;
  let cmRef: ObjectRef;
  let secretRef: ObjectRef;

  const writes = (server: SimServer, filter: Record<string, unknown> = {}): number =>
    server.requests.count({ writes: true, ...filter });
  const applies = (server: SimServer, resource: string): number => server.requests.count({ verb: 'apply', resource });
  const kcpObject = (ref: ObjectRef): KubeObject | undefined =>
    kcp.store(ref.workspace).get(gvr(ref.group, ref.version, ref.resource), ref.namespace, ref.name);

  beforeAll(async () => {
    kcp = await startSimServer({ name: 'kcp', mode: 'kcp' });
    for (const name of CLUSTERS)
      clusters[name] = await startSimServer({ name, mode: 'cluster', workloads: { readyDelayMs: 50 } });
    kcp.createLogicalCluster(WS);
    kcp.createLogicalCluster(OTHER);
    const store = kcp.store(WS);
    dep = store.create(DEPLOYMENTS, deployment());
    const cm = store.create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-config', namespace: NS },
      data: { MODE: 'prod' },
    });
    const secret = store.create(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'web-secret', namespace: NS },
      type: 'Opaque',
      data: { PASSWORD: SECRET_B64 },
    });
    depRef = refOf(WS, dep, 'apps', 'deployments');
    cmRef = refOf(WS, cm, '', 'configmaps');
    secretRef = refOf(WS, secret, '', 'secrets');
    world = await startSyncWorld();
    kube = new SimConnector(kcp, clusters);
    for (const ref of [depRef, cmRef, secretRef])
      await world.putDecision(
        ref,
        1,
        CLUSTERS.map((name) => ({ name, replicas: 1 })),
      );
    for (const name of CLUSTERS) await world.putCluster(WS, name);
  });
  afterAll(async () => {
    kube.close();
    await world.close();
    await Promise.all([kcp.stop(), ...Object.values(clusters).map((c) => c.stop())]);
  });

  it('first sync: exactly one apply per object per cluster, plus the namespace once', async () => {
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    const messages = CLUSTERS.flatMap((c) => [
      syncMessage(depRef, c, 1, { object: dep }),
      syncMessage(cmRef, c, 1),
      syncMessage(secretRef, c, 1),
    ]);
    expect(await handler(sqsEvent(messages))).toEqual({ batchItemFailures: [] });
    const ns = downstreamNamespace(WS, NS);
    for (const name of CLUSTERS) {
      const server = clusters[name];
      expect([
        applies(server, 'namespaces'),
        applies(server, 'configmaps'),
        applies(server, 'secrets'),
        applies(server, 'deployments'),
      ]).toEqual([1, 1, 1, 1]);
      expect(writes(server)).toBe(4);
      const downstream = server.store().get(DEPLOYMENTS, ns, 'web');
      expect(downstream?.metadata.labels?.[MANAGED_BY_LABEL]).toBe('tmc');
      expect((downstream?.spec as { replicas: number }).replicas).toBe(1);
      expect(
        server.store().get(NAMESPACES, undefined, ns)?.metadata.annotations?.['kcp.io/namespace-locator'],
      ).toContain(WS);
    }
  });

  it('unchanged resync from a fresh container: zero writes on the clusters, in kcp and in DynamoDB', async () => {
    const before = CLUSTERS.map((c) => writes(clusters[c]));
    const kcpBefore = writes(kcp);
    const putsBefore = world.syncPuts.length;
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    const current = kcpObject(depRef) as KubeObject;
    const messages = CLUSTERS.flatMap((c) => [
      syncMessage(depRef, c, 1, { object: current }),
      syncMessage(cmRef, c, 1),
      syncMessage(secretRef, c, 1),
    ]);
    expect(await handler(sqsEvent(messages))).toEqual({ batchItemFailures: [] });
    expect(CLUSTERS.map((c) => writes(clusters[c]))).toEqual(before);
    expect(writes(kcp)).toBe(kcpBefore);
    expect(world.syncPuts.length).toBe(putsBefore);
  });

  it('an update is one apply per cluster', async () => {
    const kcpClient = await kube.kcp(WS);
    const updated = await kcpClient.mergePatch(depRef, {
      spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } } },
    });
    const before = CLUSTERS.map((c) => writes(clusters[c]));
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    expect(await handler(sqsEvent(CLUSTERS.map((c) => syncMessage(depRef, c, 1, { object: updated }))))).toEqual({
      batchItemFailures: [],
    });
    expect(CLUSTERS.map((c) => writes(clusters[c]) - before[CLUSTERS.indexOf(c)])).toEqual([1, 1]);
    const stored = clusters.east.store().get(DEPLOYMENTS, downstreamNamespace(WS, NS), 'web');
    expect(stored?.spec).toMatchObject({ template: { spec: { containers: [{ image: 'nginx:1.28' }] } } });
  });

  it('status flows back: the backstop reads downstream status, kcp shows the sum and per-cluster detail', async () => {
    const handler = makeStatusUpHandler(world.statusDeps(kube));
    let status: Record<string, any> = {};
    for (let i = 0; i < 40 && status.readyReplicas !== 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} } as never);
      status = (kcpObject(depRef)?.status ?? {}) as Record<string, any>;
    }
    expect(status).toMatchObject({ readyReplicas: 2, replicas: 2 });
    expect(status.conditions.find((c: { type: string }) => c.type === 'Available')?.status).toBe('True');
    expect(status.conditions.find((c: { type: string }) => c.type === 'Synced')?.status).toBe('True');
    const annotations = kcpObject(depRef)?.metadata.annotations ?? {};
    expect(JSON.parse(annotations[clusterStatusAnnotation(WS, 'east')])).toMatchObject({
      cluster: 'east',
      state: 'applied',
      status: { readyReplicas: 1 },
    });
    // A status write touched no spec: the next resync writes nothing.
    const before = CLUSTERS.map((c) => writes(clusters[c]));
    await makeSyncApplyHandler(world.applyDeps(kube))(
      sqsEvent(CLUSTERS.map((c) => syncMessage(depRef, c, 1, { object: kcpObject(depRef) }))),
    );
    expect(CLUSTERS.map((c) => writes(clusters[c]))).toEqual(before);
    // Two more backstop runs with nothing new: no write to DynamoDB, and kcp is not even read.
    for (let run = 0; run < 2; run++) {
      const kcpRequests = kcp.requests.count({});
      const dynamoWrites = world.dynamoWrites();
      expect(
        await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} } as never),
      ).toMatchObject({ written: 0, failed: 0 });
      expect(world.dynamoWrites()).toBe(dynamoWrites);
      expect(kcp.requests.count({})).toBe(kcpRequests);
    }
  });

  it('the backstop reads several objects of one type and namespace with one list per cluster, not a GET each', async () => {
    const refs = ['api-0', 'api-1', 'api-2'].map((name) => {
      const object = deployment();
      object.metadata = { ...object.metadata, name };
      return refOf(WS, kcp.store(WS).create(DEPLOYMENTS, object), 'apps', 'deployments');
    });
    for (const ref of refs)
      await world.putDecision(
        ref,
        1,
        CLUSTERS.map((name) => ({ name, replicas: 1 })),
      );
    await makeSyncApplyHandler(world.applyDeps(kube))(
      sqsEvent(refs.flatMap((ref) => CLUSTERS.map((c) => syncMessage(ref, c, 1, { object: kcpObject(ref) })))),
    );
    const ns = downstreamNamespace(WS, NS);
    const reads = (verb: string): number[] =>
      CLUSTERS.map((c) => clusters[c].requests.count({ verb, resource: 'deployments', namespace: ns }));
    const [gets, lists] = [reads('get'), reads('list')];
    const handler = makeStatusUpHandler(world.statusDeps(kube));
    for (
      let i = 0;
      i < 40 &&
      refs.some((ref) => (kcpObject(ref)?.status as { readyReplicas?: number } | undefined)?.readyReplicas !== 2);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
      await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} } as never);
    }
    for (const ref of refs) expect(kcpObject(ref)?.status).toMatchObject({ readyReplicas: 2 });
    const runs = reads('list').map((n, i) => n - lists[i]);
    expect(runs.every((n) => n >= 1)).toBe(true);
    expect(reads('get')).toEqual(gets);
  });

  it('a pre-existing unmanaged object is left alone and reported', async () => {
    const ns = downstreamNamespace(WS, NS);
    const east = clusters.east.store();
    east.create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'theirs', namespace: ns },
      data: { owner: 'ops' },
    });
    const theirs = kcp.store(WS).create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'theirs', namespace: NS },
      data: { owner: 'tmc' },
    });
    const ref = refOf(WS, theirs, '', 'configmaps');
    await world.putDecision(ref, 1, [{ name: 'east' }]);
    const applied = applies(clusters.east, 'configmaps');
    expect(await makeSyncApplyHandler(world.applyDeps(kube))(sqsEvent([syncMessage(ref, 'east', 1)]))).toEqual({
      batchItemFailures: [],
    });
    expect(applies(clusters.east, 'configmaps')).toBe(applied);
    expect(east.get(CONFIGMAPS, ns, 'theirs')?.data).toEqual({ owner: 'ops' });
    const detail = JSON.parse(kcpObject(ref)?.metadata.annotations?.[clusterStatusAnnotation(WS, 'east')] ?? '{}');
    expect(detail.conditions[0]).toMatchObject({ type: 'Synced', status: 'False', reason: 'SyncConflict' });
  });

  it('a 1 MiB ConfigMap no message carries is applied whole; table items stay small', async () => {
    const big = kcp.store(WS).create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'big', namespace: NS },
      data: { blob: 'y'.repeat(1024 * 1024) },
    });
    const ref = refOf(WS, big, '', 'configmaps');
    await world.putDecision(ref, 1, [{ name: 'west' }]);
    expect(await makeSyncApplyHandler(world.applyDeps(kube))(sqsEvent([syncMessage(ref, 'west', 1)]))).toEqual({
      batchItemFailures: [],
    });
    expect(
      (clusters.west.store().get(CONFIGMAPS, downstreamNamespace(WS, NS), 'big')?.data as { blob: string }).blob.length,
    ).toBe(1024 * 1024);
    expect(Math.max(...(await world.scanAll()).map((i) => JSON.stringify(i).length))).toBeLessThan(8192);
  });

  it('two workspaces, same namespace and name: two downstream namespaces, no collision', async () => {
    const other = kcp.store(OTHER).create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-config', namespace: NS },
      data: { MODE: 'team-b' },
    });
    const ref = refOf(OTHER, other, '', 'configmaps');
    expect(await makeSyncApplyHandler(world.applyDeps(kube))(sqsEvent([syncMessage(ref, 'east', 1)]))).toEqual({
      batchItemFailures: [],
    });
    const east = clusters.east.store();
    expect(east.get(CONFIGMAPS, downstreamNamespace(WS, NS), 'web-config')?.data).toEqual({ MODE: 'prod' });
    expect(east.get(CONFIGMAPS, downstreamNamespace(OTHER, NS), 'web-config')?.data).toEqual({ MODE: 'team-b' });
  });

  it('429 from a cluster: backed off by Retry-After and reported as a batch item failure', async () => {
    const cm = kcp.store(WS).create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'slow', namespace: NS },
      data: { a: '1' },
    });
    const ref = refOf(WS, cm, '', 'configmaps');
    clusters.west.faults.set({ throttle: { rate: 1, retryAfterSeconds: 7 } });
    world.deferred.length = 0;
    try {
      const response = await makeSyncApplyHandler(world.applyDeps(kube))(
        sqsEvent([syncMessage(ref, 'west', 1), syncMessage(ref, 'east', 1)]),
      );
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
      expect(world.deferred).toHaveLength(1);
      expect(world.deferred[0].delaySeconds).toBeGreaterThanOrEqual(7);
    } finally {
      clusters.west.faults.clear();
    }
    expect(await world.syncState.get(ref, 'west')).toMatchObject({
      state: 'failed',
      lastError: { category: 'cluster-throttled' },
    });
    expect(await makeSyncApplyHandler(world.applyDeps(kube))(sqsEvent([syncMessage(ref, 'west', 1)], 2))).toEqual({
      batchItemFailures: [],
    });
    expect(await world.syncState.get(ref, 'west')).toMatchObject({ state: 'applied' });
  });

  it('Secret data never reaches DynamoDB items or logs', async () => {
    const everything =
      JSON.stringify(await world.scanAll()) + JSON.stringify(world.logLines) + JSON.stringify(world.metrics);
    expect(everything).not.toContain(SECRET_B64);
    expect(everything).not.toContain(SECRET_VALUE);
    expect(
      (clusters.east.store().get(SECRETS, downstreamNamespace(WS, NS), 'web-secret')?.data as Record<string, string>)
        .PASSWORD,
    ).toBe(SECRET_B64);
  });

  it('a kcp patch carrying a resourceVersion is conditional on it, on the object and on /status (the reporter relies on it)', async () => {
    const kcpClient = await kube.kcp(WS);
    const read = (await kcpClient.get(cmRef)) as KubeObject;
    const stale = read.metadata.resourceVersion;
    const moved = await kcpClient.mergePatch(cmRef, {
      metadata: { resourceVersion: stale, annotations: { 'example.com/a': '1' } },
    });
    await expect(
      kcpClient.mergePatch(cmRef, { metadata: { resourceVersion: stale, annotations: { 'example.com/a': '2' } } }),
    ).rejects.toMatchObject({ name: 'ConflictError' });
    const depRead = (await kcpClient.get(depRef)) as KubeObject;
    await kcpClient.mergePatch(depRef, { metadata: { annotations: { 'example.com/a': '1' } } });
    await expect(
      kcpClient.patchStatus(depRef, { replicas: 99 }, { resourceVersion: depRead.metadata.resourceVersion }),
    ).rejects.toMatchObject({ name: 'ConflictError' });
    expect(kcpObject(depRef)?.status).not.toMatchObject({ replicas: 99 });
    expect(kcpObject(cmRef)?.metadata.annotations?.['example.com/a']).toBe('1');
    await kcpClient.mergePatch(cmRef, {
      metadata: { resourceVersion: moved.metadata.resourceVersion, annotations: { 'example.com/a': null } },
    });
  });

  it('delete removes the object everywhere and releases the finalizer', async () => {
    const kcpClient = await kube.kcp(WS);
    await kcpClient.delete(depRef); // the finalizer holds it with a deletionTimestamp
    expect(kcpObject(depRef)?.metadata.deletionTimestamp).toBeDefined();
    await world.putDecision(depRef, 2, []);
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    expect(await handler(sqsEvent(CLUSTERS.map((c) => syncMessage(depRef, c, 2, { action: 'delete' }))))).toEqual({
      batchItemFailures: [],
    });
    for (const name of CLUSTERS)
      expect(clusters[name].store().get(DEPLOYMENTS, downstreamNamespace(WS, NS), 'web')).toBeUndefined();
    expect(kcpObject(depRef)).toBeUndefined(); // finalizer released, kcp completed the delete
    expect(
      Object.keys(kcpObject(cmRef)?.metadata.annotations ?? {}).some((k) =>
        k.startsWith(CLUSTER_STATUS_ANNOTATION_PREFIX),
      ),
    ).toBe(true);
  });
});
