import type { SQSEvent } from 'aws-lambda';
import {
  CLUSTER_STATUS_ANNOTATION_PREFIX,
  MANAGED_BY_LABEL,
  SYNC_FINALIZER,
  clusterStatusAnnotation,
  downstreamNamespace,
  stateLabel,
} from '../../../lib/api/labels';
import {
  ClusterConfigurationError,
  ClusterThrottledError,
  ConflictError,
  ValidationError,
} from '../../../lib/errors/tmc-error';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { syncOne } from '../../../lib/sync/apply';
import { stableHash } from '../../../lib/kube/canonical-hash';
import { toDownstream } from '../../../lib/sync/transform';
import { FakeConnector } from './fake-kube';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from './world';
import * as build from '../../support/builders';
import { loadEvent } from '../../support/events';

const WS = 'root:team-a';
const NS = 'default';
const SECRET_VALUE = 'hunter2-super-secret';
const SECRET_B64 = Buffer.from(SECRET_VALUE).toString('base64');

function deployment(generation = 1, image = 'nginx:1.27'): KubeObject {
  return build.deployment('web', {
    namespace: NS,
    replicas: 4,
    container: 'web',
    image,
    envFrom: [{ configMapRef: { name: 'web-config' } }, { secretRef: { name: 'web-secret' } }],
    metadata: { uid: 'uid-web', generation, resourceVersion: String(100 + generation), finalizers: [SYNC_FINALIZER] },
  });
}
const configMap: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'web-config', namespace: NS, uid: 'uid-cm' },
  data: { MODE: 'prod' },
};
const secret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'web-secret', namespace: NS, uid: 'uid-secret' },
  type: 'Opaque',
  data: { PASSWORD: SECRET_B64 },
};

describe('sync-apply use case (dynalite + in-memory clusters)', () => {
  let world: SyncWorld;
  let kube: FakeConnector;
  beforeEach(async () => {
    world = await startSyncWorld();
    kube = new FakeConnector();
    const kcp = kube.kcpOf(WS);
    kcp.put('deployments', deployment());
    kcp.put('configmaps', configMap);
    kcp.put('secrets', secret);
  });
  afterEach(async () => world.close());

  const depRef = (): ReturnType<typeof refOf> => refOf(WS, deployment(), 'apps', 'deployments');

  it('applies, rejects and deletes as the events/sync-apply samples ask', async () => {
    const sampleRef = {
      ...refOf('root:default', build.deployment('nginx'), 'apps', 'deployments'),
      uid: '0b8f4a2c-5d6e-4f70-8a91-b2c3d4e5f601',
    };
    const nginx = build.deployment('nginx', {
      replicas: 2,
      metadata: { uid: sampleRef.uid, generation: 1, finalizers: [SYNC_FINALIZER] },
    });
    kube.kcpOf('root:default').put('deployments', nginx);
    const copies = (): KubeObject[] =>
      [...kube.clusterOf('east').objects.values()].filter(
        (o) => o.kind === 'Deployment' && o.metadata.name === 'nginx',
      );
    const handler = makeSyncApplyHandler(world.applyDeps(kube));

    await world.putDecision(sampleRef, 1, [{ name: 'east', replicas: 2 }]);
    expect(await handler(loadEvent<SQSEvent>('sync-apply', 'apply-deployment.json'))).toEqual({
      batchItemFailures: [],
    });
    expect(copies()).toHaveLength(1);
    // The same apply again, and a body that is no sync message: only the malformed one fails.
    expect(await handler(loadEvent<SQSEvent>('sync-apply', 'batch-with-malformed.json'))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-4' }],
    });

    await world.putDecision(sampleRef, 2, []);
    expect(await handler(loadEvent<SQSEvent>('sync-apply', 'delete-deployment.json'))).toEqual({
      batchItemFailures: [],
    });
    expect(copies()).toEqual([]);
  });

  it('first sync applies each object once per cluster (plus the namespace once); a resync writes nothing', async () => {
    const ref = depRef();
    await world.putDecision(ref, 1, [
      { name: 'east', replicas: 1 },
      { name: 'west', replicas: 3 },
    ]);
    const deps = world.applyDeps(kube);
    for (const cluster of ['east', 'west']) {
      expect(await syncOne(deps, syncMessage(ref, cluster, 1, { object: deployment() }), 1)).toEqual({
        result: 'applied',
      });
    }
    for (const cluster of ['east', 'west']) {
      const c = kube.clusterOf(cluster);
      expect(c.count('apply')).toBe(4); // namespace, ConfigMap, Secret, Deployment
      expect(c.count('delete')).toBe(0);
      const ns = downstreamNamespace(WS, NS);
      expect(c.find('namespaces', undefined, ns)?.metadata.annotations?.['kcp.io/namespace-locator']).toContain(WS);
      expect((c.find('deployments', ns, 'web')?.spec as { replicas: number }).replicas).toBe(
        cluster === 'east' ? 1 : 3,
      );
    }

    // Resync: a fresh container (no namespace cache), same object, same decision: zero writes anywhere.
    const putsBefore = world.syncPuts.length;
    const kcpWritesBefore = kube.kcpOf(WS).writes();
    const resyncDeps = world.applyDeps(kube);
    for (const cluster of ['east', 'west']) {
      const before = kube.clusterOf(cluster).writes();
      expect(await syncOne(resyncDeps, syncMessage(ref, cluster, 1, { object: deployment() }), 1)).toEqual({
        result: 'unchanged',
      });
      expect(kube.clusterOf(cluster).writes()).toBe(before);
    }
    expect(world.syncPuts.length).toBe(putsBefore);
    expect(kube.kcpOf(WS).writes()).toBe(kcpWritesBefore);

    // Update: one apply per cluster.
    kube.kcpOf(WS).put('deployments', deployment(2, 'nginx:1.28'));
    for (const cluster of ['east', 'west']) {
      const before = kube.clusterOf(cluster).count('apply');
      expect(
        await syncOne(resyncDeps, syncMessage(ref, cluster, 1, { object: deployment(2, 'nginx:1.28') }), 1),
      ).toEqual({ result: 'applied' });
      expect(kube.clusterOf(cluster).count('apply')).toBe(before + 1);
    }
  });

  it('a ConfigMap applied ahead of its own message (a dependency) shows on kcp as applied there, labels too', async () => {
    const ref = depRef();
    const cmRef = refOf(WS, configMap, '', 'configmaps');
    await world.putDecision(ref, 1, [{ name: 'east' }]);
    await world.putDecision(cmRef, 1, [{ name: 'east' }]);
    const deps = world.applyDeps(kube);
    expect(await syncOne(deps, syncMessage(ref, 'east', 1, { object: deployment() }), 1)).toEqual({
      result: 'applied',
    });
    // Its own message then finds it applied and asks for nothing: the dependency's apply must have asked.
    expect(await syncOne(deps, syncMessage(cmRef, 'east', 1), 1)).toEqual({ result: 'unchanged' });
    const shown = kube.kcpOf(WS).find('configmaps', NS, configMap.metadata.name ?? '');
    expect(JSON.parse(shown?.metadata.annotations?.[clusterStatusAnnotation(WS, 'east')] ?? '{}')).toMatchObject({
      state: 'applied',
    });
    expect(shown?.metadata.labels?.[stateLabel(WS, 'east')]).toBe('Sync');
  });

  it('a batch with a workload and its dependencies applies each once, the namespace once', async () => {
    const ref = depRef();
    const cmRef = refOf(WS, configMap, '', 'configmaps');
    const secretRef = refOf(WS, secret, '', 'secrets');
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    const response = await handler(
      sqsEvent([
        syncMessage(ref, 'east', 1),
        syncMessage(cmRef, 'east', 1),
        syncMessage(secretRef, 'east', 1),
        syncMessage(ref, 'east', 1),
      ]),
    );
    expect(response.batchItemFailures).toEqual([]);
    const east = kube.clusterOf('east');
    expect(
      east.calls
        .filter((c) => c.verb === 'apply')
        .map((c) => c.key.split('|')[0])
        .sort(),
    ).toEqual(['configmaps', 'deployments', 'namespaces', 'secrets']);
  });

  it("ignores a message older than the pair's sync state; an older-than-decision message reconciles from kcp", async () => {
    const ref = depRef();
    await world.putDecision(ref, 5, [{ name: 'east' }]);
    // Behind the decision, pair not caught up: the carried (old) object and the old action are not trusted.
    const old = { ...deployment(), spec: { ...(deployment().spec as object), replicas: 99 } };
    expect(
      await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 4, { object: old, action: 'delete' }), 1),
    ).toEqual({ result: 'applied' });
    const east = kube.clusterOf('east');
    expect((east.find('deployments', downstreamNamespace(WS, NS), 'web')?.spec as { replicas: number }).replicas).toBe(
      4,
    );
    const writes = east.writes();
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 4), 1)).toEqual({ result: 'stale' });
    expect(east.writes()).toBe(writes);
  });

  it('never overwrites an unmanaged object and reports the conflict on the kcp object', async () => {
    const ref = depRef();
    await world.putDecision(ref, 1, [{ name: 'east' }]);
    const east = kube.clusterOf('east');
    const ns = downstreamNamespace(WS, NS);
    east.put('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    east.put('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns, labels: { owner: 'someone' } },
      spec: { replicas: 9 },
    });
    const result = await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1);
    expect(result).toEqual({ result: 'recorded' });
    expect((east.find('deployments', ns, 'web')?.spec as { replicas: number }).replicas).toBe(9);
    expect(east.find('deployments', ns, 'web')?.metadata.labels?.[MANAGED_BY_LABEL]).toBeUndefined();
    const record = await world.syncState.get(ref, 'east');
    expect(record).toMatchObject({ state: 'conflict', lastError: { category: 'sync-conflict' } });
    const kcpObject = kube.kcpOf(WS).find('deployments', NS, 'web');
    const detail = JSON.parse(kcpObject?.metadata.annotations?.[clusterStatusAnnotation(WS, 'east')] ?? '{}');
    expect(detail.conditions[0]).toMatchObject({ type: 'Synced', status: 'False', reason: 'SyncConflict' });
    expect(detail.conditions[0].message).toContain('not created by tmc');
    const synced = (kcpObject?.status as { conditions: Array<{ type: string; status: string }> }).conditions.find(
      (c) => c.type === 'Synced',
    );
    expect(synced).toMatchObject({ status: 'False' });
  });

  it('never modifies or deletes a cluster-scoped object tmc did not create', async () => {
    const role: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'reader', uid: 'uid-role' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
    };
    kube.kcpOf(WS).put('clusterroles', role);
    const ref = refOf(WS, role, 'rbac.authorization.k8s.io', 'clusterroles');
    await world.putDecision(ref, 1, [{ name: 'east' }]);
    const east = kube.clusterOf('east');
    east.served.push({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'clusterroles',
      kind: 'ClusterRole',
      namespaced: false,
    });
    const theirs = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'reader', labels: { owner: 'cluster-admin' } },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    };
    east.put('clusterroles', theirs);
    const deps = world.applyDeps(kube);
    expect(await syncOne(deps, syncMessage(ref, 'east', 1), 1)).toEqual({ result: 'recorded' });
    await expect(world.syncState.get(ref, 'east')).resolves.toMatchObject({
      state: 'conflict',
      lastError: { category: 'sync-conflict' },
    });
    expect(await syncOne(deps, syncMessage(ref, 'east', 2, { action: 'delete' }), 1)).toEqual({ result: 'deleted' });
    expect(east.find('clusterroles', undefined, 'reader')).toMatchObject({
      metadata: { labels: { owner: 'cluster-admin' } },
      rules: theirs.rules,
    });
    expect(east.count('apply')).toBe(0);
    expect(east.count('delete')).toBe(0);
  });

  it('keeps Secret data out of DynamoDB items and logs', async () => {
    const ref = depRef();
    await world.putDecision(ref, 1, [{ name: 'east' }]);
    const secretRef = refOf(WS, secret, '', 'secrets');
    await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1);
    await syncOne(
      world.applyDeps(kube),
      syncMessage(secretRef, 'east', 1, {
        object: { ...secret, data: { PASSWORD: Buffer.from('stale').toString('base64') } },
      }),
      1,
    );
    // The carried (stale, forbidden) Secret was ignored: the cluster has kcp's current data.
    expect(
      (
        kube.clusterOf('east').find('secrets', downstreamNamespace(WS, NS), 'web-secret')?.data as Record<
          string,
          string
        >
      ).PASSWORD,
    ).toBe(SECRET_B64);
    const everything =
      JSON.stringify(await world.scanAll()) + JSON.stringify(world.logLines) + JSON.stringify(world.metrics);
    expect(everything).not.toContain(SECRET_B64);
    expect(everything).not.toContain(SECRET_VALUE);
    expect(everything).toContain('secrets'); // the Secret's sync item is there, without its data
  });

  it('stores a keyed hash for a Secret: not the plain hash of its content, yet a data change is one write and a resync none', async () => {
    const secretRef = refOf(WS, secret, '', 'secrets');
    await world.putDecision(secretRef, 1, [{ name: 'east' }]);
    const east = kube.clusterOf('east');
    expect(await syncOne(world.applyDeps(kube), syncMessage(secretRef, 'east', 1), 1)).toEqual({ result: 'applied' });

    // What a reader of the table could compute from a guess: the plain hash of the downstream Secret.
    const { status: _none, ...plainContent } = toDownstream(secret, secretRef, { cluster: 'east' });
    const plain = stableHash(plainContent);
    const record = await world.syncState.get(secretRef, 'east');
    expect(record?.appliedHash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(record?.appliedHash).not.toBe(plain);
    const table = JSON.stringify(await world.scanAll());
    expect(table).not.toContain(plain.slice('sha256:'.length));
    expect(table).toContain(record?.appliedHash);

    // A no-op resync from a fresh container: zero writes on the cluster and no new sync record.
    const writes = east.writes();
    const puts = world.syncPuts.length;
    expect(await syncOne(world.applyDeps(kube), syncMessage(secretRef, 'east', 1), 1)).toEqual({ result: 'unchanged' });
    expect(east.writes()).toBe(writes);
    expect(world.syncPuts.length).toBe(puts);

    // A change of data in kcp: exactly one write, and the new data is downstream.
    const rotated = Buffer.from('correct-horse-battery-staple').toString('base64');
    kube.kcpOf(WS).put('secrets', { ...secret, data: { PASSWORD: rotated } });
    expect(await syncOne(world.applyDeps(kube), syncMessage(secretRef, 'east', 1), 1)).toEqual({ result: 'applied' });
    expect(east.writes()).toBe(writes + 1);
    expect(
      (east.find('secrets', downstreamNamespace(WS, NS), 'web-secret')?.data as Record<string, string>).PASSWORD,
    ).toBe(rotated);
    expect((await world.syncState.get(secretRef, 'east'))?.appliedHash).not.toBe(record?.appliedHash);
  });

  it('two workspaces with the same namespace and name land in two downstream namespaces', async () => {
    const other = 'root:team-b';
    kube
      .kcpOf(other)
      .put('configmaps', { ...configMap, metadata: { ...configMap.metadata, uid: 'uid-cm-b' }, data: { MODE: 'b' } });
    const refA = refOf(WS, configMap, '', 'configmaps');
    const refB = { ...refOf(other, configMap, '', 'configmaps'), uid: 'uid-cm-b' };
    const deps = world.applyDeps(kube);
    await syncOne(deps, syncMessage(refA, 'east', 1), 1);
    await syncOne(deps, syncMessage(refB, 'east', 1), 1);
    const east = kube.clusterOf('east');
    expect(east.find('configmaps', downstreamNamespace(WS, NS), 'web-config')?.data).toEqual({ MODE: 'prod' });
    expect(east.find('configmaps', downstreamNamespace(other, NS), 'web-config')?.data).toEqual({ MODE: 'b' });
  });

  it('syncs a 1 MiB ConfigMap that no message carries; the table holds only hashes', async () => {
    const big: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'big', namespace: NS, uid: 'uid-big' },
      data: { blob: 'x'.repeat(1024 * 1024) },
    };
    kube.kcpOf(WS).put('configmaps', big);
    const ref = refOf(WS, big, '', 'configmaps');
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1)).toEqual({ result: 'applied' });
    expect(
      (kube.clusterOf('east').find('configmaps', downstreamNamespace(WS, NS), 'big')?.data as { blob: string }).blob
        .length,
    ).toBe(1024 * 1024);
    const largest = Math.max(...(await world.scanAll()).map((i) => JSON.stringify(i).length));
    expect(largest).toBeLessThan(4096);
  });

  it('deletes everywhere, removes the emptied namespace and releases the finalizer (keeping others)', async () => {
    const ref = depRef();
    kube.kcpOf(WS).put('deployments', {
      ...deployment(),
      metadata: { ...deployment().metadata, finalizers: ['other.io/keep', SYNC_FINALIZER] },
    });
    await world.putDecision(ref, 1, [{ name: 'east' }, { name: 'west' }]);
    // Registered clusters: a delete waits for every one whose SyncTarget exists.
    for (const name of ['east', 'west'])
      kube.kcpOf(WS).put('synctargets', {
        apiVersion: 'workload.kcp.io/v1alpha1',
        kind: 'SyncTarget',
        metadata: { name },
        spec: {},
      });
    const deps = world.applyDeps(kube);
    const cmRef = refOf(WS, configMap, '', 'configmaps');
    const secretRef = refOf(WS, secret, '', 'secrets');
    for (const cluster of ['east', 'west']) await syncOne(deps, syncMessage(ref, cluster, 1), 1);

    const kcp = kube.kcpOf(WS);
    const live = kcp.find('deployments', NS, 'web') as KubeObject;
    kcp.objects.set(`deployments|${NS}|web`, {
      ...live,
      metadata: { ...live.metadata, deletionTimestamp: new Date().toISOString() },
    });
    await world.putDecision(ref, 2, []);
    expect(await syncOne(deps, syncMessage(ref, 'east', 2, { action: 'delete' }), 1)).toEqual({ result: 'deleted' });
    expect(kcp.find('deployments', NS, 'web')?.metadata.finalizers).toContain(SYNC_FINALIZER); // west still there
    expect(await syncOne(deps, syncMessage(ref, 'west', 2, { action: 'delete' }), 1)).toEqual({ result: 'deleted' });
    expect(kcp.find('deployments', NS, 'web')?.metadata.finalizers).toEqual(['other.io/keep']);
    const ns = downstreamNamespace(WS, NS);
    expect(kube.clusterOf('east').find('deployments', ns, 'web')).toBeUndefined();
    // The ConfigMap and Secret are still synced there, so the namespace stays …
    expect(kube.clusterOf('east').find('namespaces', undefined, ns)).toBeDefined();
    // … until they go too.
    await syncOne(deps, syncMessage(cmRef, 'east', 3, { action: 'delete' }), 1);
    await syncOne(deps, syncMessage(secretRef, 'east', 3, { action: 'delete' }), 1);
    expect(kube.clusterOf('east').find('namespaces', undefined, ns)).toBeUndefined();
    // Deleting again is a success with no writes.
    const before = kube.clusterOf('east').writes();
    expect(await syncOne(deps, syncMessage(cmRef, 'east', 3, { action: 'delete' }), 1)).toEqual({ result: 'deleted' });
    expect(kube.clusterOf('east').writes()).toBe(before);
  });

  it('a delete on a cluster whose SyncTarget is gone (no client) is recorded and does not hold the finalizer', async () => {
    const ref = depRef();
    const live = deployment();
    kube.kcpOf(WS).put('deployments', { ...live, metadata: { ...live.metadata, finalizers: [SYNC_FINALIZER] } });
    await world.putDecision(ref, 1, [{ name: 'east' }]);
    await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1);
    const kcp = kube.kcpOf(WS);
    const placed = kcp.find('deployments', NS, 'web') as KubeObject;
    kcp.objects.set(`deployments|${NS}|web`, {
      ...placed,
      metadata: { ...placed.metadata, deletionTimestamp: new Date().toISOString() },
    });
    await world.putDecision(ref, 2, []);
    // A fresh container after the SyncTarget was deleted: building east's client fails.
    const gone = Object.assign(Object.create(kube) as FakeConnector, {
      cluster: async (): Promise<never> => {
        throw new ClusterConfigurationError('SyncTarget east does not exist in root:default', { cluster: 'east' });
      },
    });
    expect(await syncOne(world.applyDeps(gone), syncMessage(ref, 'east', 2, { action: 'delete' }), 1)).toEqual({
      result: 'deleted',
    });
    expect(kcp.find('deployments', NS, 'web')?.metadata.finalizers ?? []).not.toContain(SYNC_FINALIZER);
  });

  it('a cluster dropped by the decision gets a delete even from an apply message', async () => {
    const ref = depRef();
    await world.putDecision(ref, 1, [{ name: 'east' }]);
    await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1);
    await world.putDecision(ref, 2, [{ name: 'west' }]);
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 2), 1)).toEqual({ result: 'deleted' });
    expect(kube.clusterOf('east').find('deployments', downstreamNamespace(WS, NS), 'web')).toBeUndefined();
  });

  it('a placed kcp Namespace becomes its mapped downstream namespace, applied once', async () => {
    kube.kcpOf(WS).put('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, uid: 'uid-ns' } });
    const nsRef = {
      workspace: WS,
      group: '',
      version: 'v1',
      resource: 'namespaces',
      kind: 'Namespace',
      name: NS,
      uid: 'uid-ns',
    };
    expect(await syncOne(world.applyDeps(kube), syncMessage(nsRef, 'east', 1), 1)).toEqual({ result: 'applied' });
    expect(await syncOne(world.applyDeps(kube), syncMessage(nsRef, 'east', 1), 1)).toEqual({ result: 'unchanged' });
    const east = kube.clusterOf('east');
    expect(east.find('namespaces', undefined, downstreamNamespace(WS, NS))).toBeDefined();
    expect(east.find('namespaces', undefined, NS)).toBeUndefined();
    expect(east.count('apply')).toBe(1);
  });

  it('retries a 409 within the invocation', async () => {
    const ref = refOf(WS, configMap, '', 'configmaps');
    kube.clusterOf('east').failNext('apply', new ConflictError('changed', { statusCode: 409 }));
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1)).toEqual({ result: 'applied' });
  });

  it('defers a 429 honouring Retry-After, reports it as a batch item failure, and shows the reason', async () => {
    const ref = refOf(WS, configMap, '', 'configmaps');
    const deps = world.applyDeps(kube);
    kube
      .clusterOf('east')
      .failNext('apply', new ClusterThrottledError('east throttled', { statusCode: 429, retryAfterSeconds: 30 }));
    const handler = makeSyncApplyHandler(deps);
    const response = await handler(
      sqsEvent(
        [
          syncMessage(ref, 'east', 1),
          { type: 'sync', nonsense: true },
          syncMessage(refOf(WS, configMap, '', 'configmaps'), 'west', 1),
        ],
        2,
      ),
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-0', 'm-1']);
    expect(world.deferred).toEqual([{ receiptHandle: 'rh-0', delaySeconds: 30 }]);
    expect(await world.syncState.get(ref, 'west')).toMatchObject({ state: 'applied' });
    expect(await world.syncState.get(ref, 'east')).toMatchObject({
      state: 'failed',
      lastError: { category: 'cluster-throttled' },
    });
    const detail = JSON.parse(
      kube.kcpOf(WS).find('configmaps', NS, 'web-config')?.metadata.annotations?.[
        clusterStatusAnnotation(WS, 'east')
      ] ?? '{}',
    );
    expect(detail.conditions[0]).toMatchObject({ status: 'False', reason: 'ClusterThrottled' });
  });

  it('records a 422 with the API message and stops retrying', async () => {
    const ref = refOf(WS, configMap, '', 'configmaps');
    kube.clusterOf('east').failNext(
      'apply',
      new ValidationError('ConfigMap default/web-config on east was rejected: data[bad key]: Invalid value', {
        statusCode: 422,
      }),
    );
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1)).toEqual({ result: 'recorded' });
    expect(await world.syncState.get(ref, 'east')).toMatchObject({
      state: 'failed',
      lastError: { category: 'resource-validation', statusCode: 422 },
    });
    const annotations = kube.kcpOf(WS).find('configmaps', NS, 'web-config')?.metadata.annotations ?? {};
    expect(annotations[clusterStatusAnnotation(WS, 'east')]).toContain('Invalid value');
  });

  it('applies a placed CRD first and holds its custom resource until Established: a wait, never a failed apply', async () => {
    const crd = build.widgetCrd();
    const widget: KubeObject = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: NS, uid: 'uid-w' },
      spec: { size: 1 },
    };
    kube.kcpOf(WS).put('customresourcedefinitions', { ...crd, metadata: { ...crd.metadata, uid: 'uid-crd' } });
    kube.kcpOf(WS).put('widgets', widget);
    const crdRef = refOf(
      WS,
      { ...crd, metadata: { ...crd.metadata, uid: 'uid-crd' } },
      'apiextensions.k8s.io',
      'customresourcedefinitions',
    );
    await world.putDecision(crdRef, 1, [{ name: 'east' }]);
    const ref = refOf(WS, widget, 'example.com', 'widgets');
    await world.putDecision(ref, 1, [{ name: 'east' }]);
    const east = kube.clusterOf('east');

    const first = await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1);
    expect(first).toMatchObject({ result: 'deferred' });
    const applied = east.find('customresourcedefinitions', undefined, 'widgets.example.com');
    expect(applied).toBeDefined();
    expect(east.objects.has(`widgets|${downstreamNamespace(WS, NS)}|w`)).toBe(false);
    expect((await world.syncState.get(ref, 'east'))?.state).not.toBe('failed');

    // The cluster establishes the CRD and serves the kind: the custom resource goes on.
    east.put('customresourcedefinitions', {
      ...applied!,
      status: { conditions: [{ type: 'Established', status: 'True' }] },
    });
    east.served.push({ group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true });
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 2)).toEqual({ result: 'applied' });
    expect(east.objects.has(`widgets|${downstreamNamespace(WS, NS)}|w`)).toBe(true);
  });

  it("holds a binding until the workspace's role it references is on the cluster; a built-in role's binding goes at once", async () => {
    const RBAC = 'rbac.authorization.k8s.io';
    const east = kube.clusterOf('east');
    for (const [resource, kind, namespaced] of [
      ['clusterroles', 'ClusterRole', false],
      ['clusterrolebindings', 'ClusterRoleBinding', false],
      ['roles', 'Role', true],
      ['rolebindings', 'RoleBinding', true],
    ] as const)
      east.served.push({ group: RBAC, version: 'v1', resource, kind, namespaced });
    const rules = [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }];
    const subjects = [{ kind: 'ServiceAccount', name: 'app', namespace: NS }];
    const clusterRole: KubeObject = {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'app-reader', uid: 'uid-cr' },
      rules,
    };
    const role: KubeObject = {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { name: 'app-local', namespace: NS, uid: 'uid-r' },
      rules,
    };
    const binding = (kind: string, name: string, roleKind: string, namespace?: string): KubeObject => ({
      apiVersion: `${RBAC}/v1`,
      kind,
      metadata: { name, uid: `uid-${name}`, ...(namespace ? { namespace } : {}) },
      roleRef: { apiGroup: RBAC, kind: roleKind, name: name === 'viewers' ? 'view' : `app-${name}` },
      subjects,
    });
    const crb = binding('ClusterRoleBinding', 'reader', 'ClusterRole');
    const rb = binding('RoleBinding', 'local', 'Role', NS);
    const builtIn = binding('ClusterRoleBinding', 'viewers', 'ClusterRole');
    const kcp = kube.kcpOf(WS);
    kcp.put('clusterroles', clusterRole);
    kcp.put('roles', role);
    for (const b of [crb, builtIn]) kcp.put('clusterrolebindings', b);
    kcp.put('rolebindings', rb);
    const refs = {
      clusterRole: refOf(WS, clusterRole, RBAC, 'clusterroles'),
      role: refOf(WS, role, RBAC, 'roles'),
      crb: refOf(WS, crb, RBAC, 'clusterrolebindings'),
      rb: refOf(WS, rb, RBAC, 'rolebindings'),
      builtIn: refOf(WS, builtIn, RBAC, 'clusterrolebindings'),
    };
    for (const ref of Object.values(refs)) await world.putDecision(ref, 1, [{ name: 'east' }]);
    const sync = (ref: ObjectRef, receiveCount: number): ReturnType<typeof syncOne> =>
      syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), receiveCount);
    const downstreamNs = downstreamNamespace(WS, NS);

    // Bindings first: each waits for its role (deferred, nothing applied, nothing recorded as failed)...
    expect(await sync(refs.crb, 1)).toMatchObject({ result: 'deferred' });
    expect(await sync(refs.rb, 1)).toMatchObject({ result: 'deferred' });
    expect(east.find('clusterrolebindings', undefined, 'reader')).toBeUndefined();
    expect(east.find('rolebindings', downstreamNs, 'local')).toBeUndefined();
    expect((await world.syncState.get(refs.crb, 'east'))?.state).not.toBe('failed');
    // ...except a binding to a role tmc does not sync (`view` is the cluster's own).
    expect(await sync(refs.builtIn, 1)).toEqual({ result: 'applied' });
    expect(east.count('apply')).toBe(1);

    // The roles arrive: the redelivered bindings go on, one apply each.
    expect(await sync(refs.clusterRole, 1)).toEqual({ result: 'applied' });
    expect(await sync(refs.role, 1)).toEqual({ result: 'applied' });
    expect(await sync(refs.crb, 2)).toEqual({ result: 'applied' });
    expect(await sync(refs.rb, 2)).toEqual({ result: 'applied' });
    expect(east.find('clusterrolebindings', undefined, 'reader')?.roleRef).toMatchObject({ name: 'app-reader' });
    expect(east.find('rolebindings', downstreamNs, 'local')?.roleRef).toMatchObject({ name: 'app-local' });
    const applies = east.calls.filter((c) => c.verb === 'apply').map((c) => c.key.split('|')[0]);
    expect(applies.filter((r) => r !== 'namespaces')).toEqual([
      'clusterrolebindings',
      'clusterroles',
      'roles',
      'clusterrolebindings',
      'rolebindings',
    ]);
  });

  it('names the missing CRD and the cluster', async () => {
    const widget: KubeObject = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: NS, uid: 'uid-w' },
      spec: { size: 1 },
    };
    kube.kcpOf(WS).put('widgets', widget);
    const ref = refOf(WS, widget, 'example.com', 'widgets');
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1)).toEqual({ result: 'recorded' });
    const record = await world.syncState.get(ref, 'east');
    expect(record?.lastError?.message).toBe(
      'Cluster east does not serve example.com/v1/widgets (Widget): install the CustomResourceDefinition widgets.example.com there',
    );
    expect(kube.clusterOf('east').count('apply')).toBe(0);
    // Once the CRD is there, the same message applies.
    kube
      .clusterOf('east')
      .served.push({ group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true });
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1)).toEqual({ result: 'applied' });
    const annotations = kube.kcpOf(WS).find('widgets', NS, 'w')?.metadata.annotations ?? {};
    expect(JSON.parse(annotations[clusterStatusAnnotation(WS, 'east')]).conditions[0]).toMatchObject({
      status: 'True',
      reason: 'Applied',
    });
    expect(Object.keys(annotations).filter((k) => k.startsWith(CLUSTER_STATUS_ANNOTATION_PREFIX))).toHaveLength(1);
  });
});
