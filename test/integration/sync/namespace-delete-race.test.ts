import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SOURCE_UID_LABEL,
  SYNC_FINALIZER,
  downstreamNamespace,
} from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeConnector, KubeObject } from '../../../lib/ports/kube-client';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { startSimServer, type SimServer } from '../../../lib/sim';
import { SimConnector } from './sim-connector';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from './world';
import * as build from '../../support/builders';

const WS = 'root:team-b';
const NS = 'search';
const CLUSTER = 'edge';
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };

describe('deleting the last recorded object of a downstream namespace', () => {
  let kcp: SimServer;
  let edge: SimServer;
  let world: SyncWorld;
  let kube: SimConnector;

  beforeAll(async () => {
    kcp = await startSimServer({ name: 'kcp', mode: 'kcp' });
    edge = await startSimServer({ name: CLUSTER, mode: 'cluster', workloads: { readyDelayMs: 50 } });
    kcp.createLogicalCluster(WS);
    world = await startSyncWorld();
    kube = new SimConnector(kcp, { [CLUSTER]: edge });
    await world.putCluster(WS, CLUSTER);
  });
  afterAll(async () => {
    kube.close();
    await world.close();
    await Promise.all([kcp.stop(), edge.stop()]);
  });

  it('keeps the namespace while a copy applied into it has no sync item yet (an apply in flight)', async () => {
    const store = kcp.store(WS);
    store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const dep = store.create(
      DEPLOYMENTS,
      build.deployment('app-1', { namespace: NS, container: 'app', metadata: { finalizers: [SYNC_FINALIZER] } }),
    );
    const cm = store.create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'app-3-config', namespace: NS },
      data: { MODE: 'prod' },
    });
    const depRef: ObjectRef = refOf(WS, dep, 'apps', 'deployments');
    await world.putDecision(depRef, 1, [{ name: CLUSTER, replicas: 1 }]);
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    expect(await handler(sqsEvent([syncMessage(depRef, CLUSTER, 1, { object: dep })]))).toEqual({
      batchItemFailures: [],
    });
    const ns = downstreamNamespace(WS, NS);
    expect(edge.store().get(DEPLOYMENTS, ns, 'app-1')).toBeDefined();

    // The ConfigMap's own apply is in flight: its copy is on the cluster, its sync item not written yet.
    const cmRef = refOf(WS, cm, '', 'configmaps');
    await world.putDecision(cmRef, 1, [{ name: CLUSTER }]);
    edge.store().create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'app-3-config',
        namespace: ns,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [SOURCE_UID_LABEL]: cm.metadata.uid ?? '' },
      },
      data: { MODE: 'prod' },
    });

    await (await kube.kcp(WS)).delete(depRef);
    await world.putDecision(depRef, 2, []);
    expect(await handler(sqsEvent([syncMessage(depRef, CLUSTER, 2, { action: 'delete' })]))).toEqual({
      batchItemFailures: [],
    });
    expect(edge.store().get(DEPLOYMENTS, ns, 'app-1')).toBeUndefined();
    const namespace = edge.store().get(NAMESPACES, undefined, ns);
    expect(namespace).toBeDefined();
    expect(namespace?.metadata.deletionTimestamp).toBeUndefined();
    expect(edge.store().get(CONFIGMAPS, ns, 'app-3-config')).toBeDefined();
  });

  it('deletes the namespace once the cluster itself lists nothing of tmc in it', async () => {
    const ns = downstreamNamespace(WS, NS);
    const cm: KubeObject | undefined = kcp.store(WS).get(CONFIGMAPS, NS, 'app-3-config');
    if (!cm) throw new Error('ConfigMap missing in kcp');
    const cmRef = refOf(WS, cm, '', 'configmaps');
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    await (await kube.kcp(WS)).delete(cmRef);
    await world.putDecision(cmRef, 2, []);
    expect(await handler(sqsEvent([syncMessage(cmRef, CLUSTER, 2, { action: 'delete' })]))).toEqual({
      batchItemFailures: [],
    });
    expect(edge.store().get(CONFIGMAPS, ns, 'app-3-config')).toBeUndefined();
    const namespace = edge.store().get(NAMESPACES, undefined, ns);
    expect(namespace === undefined || namespace.metadata.deletionTimestamp !== undefined).toBe(true);
  });
  it.each([
    ['between its empty-check list and the namespace DELETE: the copy and its namespace stay', 'before', 'orders'],
    ['after the namespace DELETE: no sync item says applied, and the apply is retried', 'after', 'billing'],
  ])('a copy created %s (the race injected)', async (_what, when, ORDERS) => {
    const store = kcp.store(WS);
    store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ORDERS } });
    const dep = store.create(
      DEPLOYMENTS,
      build.deployment('app-9', { namespace: ORDERS, container: 'app', metadata: { finalizers: [SYNC_FINALIZER] } }),
    );
    const cm = store.create(CONFIGMAPS, build.configMap('late-config', { namespace: ORDERS }));
    const depRef: ObjectRef = refOf(WS, dep, 'apps', 'deployments');
    const cmRef: ObjectRef = refOf(WS, cm, '', 'configmaps');
    await world.putDecision(depRef, 1, [{ name: CLUSTER, replicas: 1 }]);
    await world.putDecision(cmRef, 1, [{ name: CLUSTER }]);
    const ns = downstreamNamespace(WS, ORDERS);

    // Two containers: one deletes the last object of the namespace; the other applies the ConfigMap, and its apply runs
    // exactly between the first one's last list of the namespace and its namespace DELETE.
    const applying = makeSyncApplyHandler(world.applyDeps(kube));
    let inject: (() => Promise<void>) | undefined;
    const racing: KubeConnector = {
      kcp: (workspace) => kube.kcp(workspace),
      forget: () => kube.forget(),
      cluster: async (workspace, target) => {
        const c = await kube.cluster(workspace, target);
        return {
          target: c.target,
          get: (name) => c.get(name),
          list: (type, options) => c.list(type, options),
          apply: (type, object, options) => c.apply(type, object, options),
          mergePatch: (name, patch) => c.mergePatch(name, patch),
          patchStatus: (name, status, options) => c.patchStatus(name, status, options),
          resources: (options) => c.resources(options),
          ready: () => c.ready(),
          delete: async (name, options) => {
            const run = name.resource === 'namespaces' ? inject : undefined;
            if (run) inject = undefined;
            if (when === 'before') await run?.();
            const deleted = await c.delete(name, options);
            if (when === 'after') await run?.();
            return deleted;
          },
        };
      },
    };
    const deleting = makeSyncApplyHandler(world.applyDeps(racing));
    expect(await deleting(sqsEvent([syncMessage(depRef, CLUSTER, 1, { object: dep })]))).toEqual({
      batchItemFailures: [],
    });

    await (await kube.kcp(WS)).delete(depRef);
    await world.putDecision(depRef, 2, []);
    let injected: Awaited<ReturnType<typeof applying>> | undefined;
    inject = async () => {
      injected = await applying(sqsEvent([syncMessage(cmRef, CLUSTER, 1)]));
    };
    expect(await deleting(sqsEvent([syncMessage(depRef, CLUSTER, 2, { action: 'delete' })]))).toEqual({
      batchItemFailures: [],
    });
    expect(edge.store().get(DEPLOYMENTS, ns, 'app-9')).toBeUndefined();
    if (when === 'before') {
      expect(injected).toEqual({ batchItemFailures: [] });
      // The ConfigMap's sync item says applied: its copy is there, in a namespace that is not going away.
      expect((await world.syncState.get(cmRef, CLUSTER))?.state).toBe('applied');
      expect(edge.store().get(CONFIGMAPS, ns, 'late-config')).toBeDefined();
      expect(edge.store().get(NAMESPACES, undefined, ns)?.metadata.deletionTimestamp).toBeUndefined();
    } else {
      // The namespace is terminating and takes the copy: the apply is deferred and nothing claims it is there.
      expect(injected?.batchItemFailures).toHaveLength(1);
      expect((await world.syncState.get(cmRef, CLUSTER))?.state).not.toBe('applied');
    }
  });

  it('places copies into a namespace it did not create, removes them when kcp deletes the namespace, and leaves the namespace', async () => {
    // A cluster admin created the downstream namespace ahead of tmc, with an object of their own in it.
    const TEAM = 'team-owned';
    const ns = downstreamNamespace(WS, TEAM);
    edge.store().create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { owner: 'platform' } },
    });
    edge.store().create(CONFIGMAPS, build.configMap('platform-quota', { namespace: ns }));
    const store = kcp.store(WS);
    store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: TEAM } });
    const dep = store.create(
      DEPLOYMENTS,
      build.deployment('app-2', { namespace: TEAM, container: 'app', metadata: { finalizers: [SYNC_FINALIZER] } }),
    );
    const depRef: ObjectRef = refOf(WS, dep, 'apps', 'deployments');
    await world.putDecision(depRef, 1, [{ name: CLUSTER, replicas: 1 }]);
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    expect(await handler(sqsEvent([syncMessage(depRef, CLUSTER, 1, { object: dep })]))).toEqual({
      batchItemFailures: [],
    });
    expect(edge.store().get(DEPLOYMENTS, ns, 'app-2')).toBeDefined();
    // tmc used the namespace without claiming it: no ownership label was added.
    expect(edge.store().get(NAMESPACES, undefined, ns)?.metadata.labels).toEqual({ owner: 'platform' });

    // kcp's namespace is deleted: the namespace controller's DELETE of the Deployment reaches sync-apply.
    await (await kube.kcp(WS)).delete(depRef);
    await world.putDecision(depRef, 2, []);
    expect(await handler(sqsEvent([syncMessage(depRef, CLUSTER, 2, { action: 'delete' })]))).toEqual({
      batchItemFailures: [],
    });
    expect(edge.store().get(DEPLOYMENTS, ns, 'app-2')).toBeUndefined();
    const namespace = edge.store().get(NAMESPACES, undefined, ns);
    expect(namespace).toBeDefined();
    expect(namespace?.metadata.deletionTimestamp).toBeUndefined();
    expect(edge.store().get(CONFIGMAPS, ns, 'platform-quota')).toBeDefined();
    expect(kcp.store(WS).get(DEPLOYMENTS, TEAM, 'app-2')).toBeUndefined(); // the finalizer was released
  });
});
