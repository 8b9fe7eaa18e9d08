import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SOURCE_UID_LABEL,
  SYNC_FINALIZER,
  downstreamNamespace,
} from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
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
});
