import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { downstreamNamespace, SYNC_FINALIZER } from '../../../lib/api/labels';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import type { StatusMessage } from '../../../lib/api/messages';
import { ClusterUnreachableError } from '../../../lib/errors/tmc-error';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { syncOne } from '../../../lib/sync/apply';
import { reportClusterStatus, runStatusBackstop } from '../../../lib/sync/status/status-up';
import { FakeConnector } from './fake-kube';
import { refOf, startSyncWorld, syncMessage, type SyncWorld } from './world';

/**
 * Status never lies and deleting always completes (issue 14, defects 5 and 6): kcp's status counts only the copies
 * clusters of the decision hold, an object placed nowhere says why, and a delete waits for no cluster that is gone.
 */
const WS = 'root:truth';
const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', uid: 'uid-web', generation: 1, finalizers: [SYNC_FINALIZER] },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
  },
};
const ready = (n: number): Record<string, unknown> => ({
  observedGeneration: 1,
  replicas: n,
  readyReplicas: n,
  availableReplicas: n,
  updatedReplicas: n,
  conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
});
const syncTarget = (name: string): KubeObject => ({
  apiVersion: 'workload.kcp.io/v1alpha1',
  kind: 'SyncTarget',
  metadata: { name },
  spec: {},
});

describe('status and deletion truth (dynalite + in-memory clusters)', () => {
  let world: SyncWorld;
  let kube: FakeConnector;
  const ref: ObjectRef = refOf(WS, deployment, 'apps', 'deployments');
  const kcpObject = (): KubeObject | undefined => kube.kcpOf(WS).find('deployments', 'default', 'web');
  const condition = (type: string): Record<string, unknown> | undefined =>
    ((kcpObject()?.status as { conditions?: Array<Record<string, unknown>> } | undefined)?.conditions ?? []).find(
      (c) => c.type === type,
    );

  /** Placement's decision item, with the fields status reads. */
  async function decide(version: number, clusters: string[], extra: Record<string, unknown> = {}): Promise<void> {
    await world.doc.send(
      new PutCommand({
        TableName: world.tableName,
        Item: {
          pk: `OBJ#${objectKey(ref)}`,
          sk: 'DECISION',
          decisionVersion: version,
          generation: 1,
          clusters: clusters.map((name) => ({ name, replicas: 2 })),
          scheduled: clusters.length > 0,
          reason: 'Scheduled',
          message: `Placed on ${clusters.join(', ')}`,
          ...extra,
        },
      }),
    );
  }

  async function report(cluster: string, resourceVersion: string): Promise<void> {
    const downstream = kube
      .clusterOf(cluster)
      .find('deployments', downstreamNamespace(WS, 'default'), 'web') as KubeObject;
    kube.clusterOf(cluster).put('deployments', { ...downstream, status: ready(2) });
    const message: StatusMessage = {
      type: 'status',
      ref,
      cluster,
      resourceVersion,
      status: ready(2),
      trace: { traceId: 't', enqueuedAt: new Date().toISOString() },
    };
    expect(await reportClusterStatus(world.statusDeps(kube), message, 1)).toEqual({ result: 'written' });
  }

  beforeEach(async () => {
    world = await startSyncWorld();
    kube = new FakeConnector();
    kube.kcpOf(WS).put('deployments', deployment);
  });
  afterEach(async () => world.close());

  it('an object moved to nowhere stops counting its old copy and says why it runs nowhere', async () => {
    await decide(1, ['east']);
    await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1), 1);
    await report('east', '10');
    expect(kcpObject()?.status).toMatchObject({ readyReplicas: 2, availableReplicas: 2 });
    expect(condition('Available')).toMatchObject({ status: 'True' });
    expect(condition('Placed')).toMatchObject({ status: 'True', reason: 'Scheduled', message: 'Placed on east' });

    // A new Placement no longer selects the namespace: placement decides nowhere and removes the copy.
    const why =
      'No Placement selects Deployment default/web: 1 Placement(s) in the workspace, none whose namespaceSelector and objectSelectors match namespace default';
    await decide(2, [], { scheduled: false, reason: 'NoMatchingPlacement', message: why });
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 2, { action: 'delete' }), 1)).toEqual({
      result: 'deleted',
    });
    expect(kcpObject()?.status).toMatchObject({ readyReplicas: 0, availableReplicas: 0 });
    expect(condition('Available')).toMatchObject({ status: 'False', message: 'Not placed on any cluster' });
    expect(condition('Placed')).toMatchObject({ status: 'False', reason: 'NoMatchingPlacement', message: why });
  });

  it('a copy the decision still wants but that is gone is not counted, and the object is not Available', async () => {
    await decide(1, ['east', 'west']);
    for (const c of ['east', 'west']) await syncOne(world.applyDeps(kube), syncMessage(ref, c, 1), 1);
    await report('east', '10');
    await report('west', '11');
    expect(kcpObject()?.status).toMatchObject({ readyReplicas: 4 });

    // west's copy was removed (its record says deleted), while its last status still says 2 ready.
    const west = await world.syncState.get(ref, 'west');
    await world.syncState.put({ ...west!, state: 'deleted', updatedAt: new Date().toISOString() });
    await world.statusDeps(kube).reporter.refresh(ref);
    expect(kcpObject()?.status).toMatchObject({ readyReplicas: 2, availableReplicas: 2 });
    expect(condition('Available')).toMatchObject({ status: 'False' });
    expect(String(condition('Available')?.message)).toContain('west (no status yet)');
  });

  it('a copy that vanished from its cluster while its sync item says applied stops counting: not Available', async () => {
    await decide(1, ['east', 'west']);
    for (const c of ['east', 'west']) await syncOne(world.applyDeps(kube), syncMessage(ref, c, 1), 1);
    await report('east', '10');
    await report('west', '11');
    expect(condition('Available')).toMatchObject({ status: 'True' });

    // west's copy is gone (its delete notification lost); its sync item and last status still say 2 ready there.
    kube.clusterOf('west').objects.delete(`deployments|${downstreamNamespace(WS, 'default')}|web`);
    expect((await world.syncState.get(ref, 'west'))?.state).toBe('applied');
    for (const c of ['east', 'west']) await world.putCluster(WS, c);
    expect(await runStatusBackstop(world.statusDeps(kube))).toMatchObject({ clusters: 2, failed: 0 });
    expect(condition('Available')).toMatchObject({ status: 'False' });
    expect(String(condition('Available')?.message)).toContain('west (no status yet)');
    expect(kcpObject()?.status).toMatchObject({ readyReplicas: 2, availableReplicas: 2 });
    // The next run finds nothing more to forget: no write.
    const patches = kube.kcpOf(WS).count('patchStatus');
    await runStatusBackstop(world.statusDeps(kube));
    expect(kube.kcpOf(WS).count('patchStatus')).toBe(patches);
  });

  it('a delete completes when a cluster is gone: its SyncTarget deleted, its requests failing', async () => {
    for (const c of ['east', 'west']) {
      kube.kcpOf(WS).put('synctargets', syncTarget(c));
      await world.putCluster(WS, c);
    }
    await decide(1, ['east', 'west']);
    for (const c of ['east', 'west']) await syncOne(world.applyDeps(kube), syncMessage(ref, c, 1), 1);
    // kubectl delete; placement records the removal from both.
    const placed = kcpObject()!;
    kube.kcpOf(WS).objects.set(`deployments|default|web`, {
      ...placed,
      metadata: { ...placed.metadata, deletionTimestamp: new Date().toISOString() },
    });
    await decide(2, [], { scheduled: false, reason: 'Deleted', message: 'deleted' });

    // east is clean; west still has its copy, and status says what the delete waits for.
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 2, { action: 'delete' }), 1)).toEqual({
      result: 'deleted',
    });
    expect(kcpObject()?.metadata.finalizers).toContain(SYNC_FINALIZER);
    expect(condition('Placed')).toMatchObject({
      status: 'False',
      reason: 'Deleting',
      message: 'Being deleted: waiting for its copies on west (Applied) to be removed',
    });
    // west's SyncTarget is deleted (kcp and placement's mirror), and this container's client for it times out. The
    // finalizer waits for west no longer than one failed request.
    kube.kcpOf(WS).objects.delete('synctargets||west');
    await world.doc.send(
      new PutCommand({ TableName: world.tableName, Item: { pk: 'CLUSTER#west', sk: `META#${WS}` } }),
    );
    kube.clusterOf('west').failNext('get', new ClusterUnreachableError('west timed out', { cluster: 'west' }));
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'west', 2, { action: 'delete' }), 1)).toEqual({
      result: 'deleted',
    });
    expect(kcpObject()).toBeUndefined();
  });

  it('a copy left on a deregistered cluster by a failover does not hold the delete; one on a live cluster does', async () => {
    kube.kcpOf(WS).put('synctargets', syncTarget('east'));
    kube.kcpOf(WS).put('synctargets', syncTarget('west'));
    await world.putCluster(WS, 'east');
    await world.putCluster(WS, 'west');
    await decide(1, ['east', 'west']);
    for (const c of ['east', 'west']) await syncOne(world.applyDeps(kube), syncMessage(ref, c, 1), 1);
    const placed = kcpObject()!;
    kube.kcpOf(WS).objects.set(`deployments|default|web`, {
      ...placed,
      metadata: { ...placed.metadata, deletionTimestamp: new Date().toISOString() },
    });
    await decide(2, [], { scheduled: false, reason: 'Deleted', message: 'deleted' });

    // west still registered: its copy keeps the finalizer after east is clean.
    await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 2, { action: 'delete' }), 1);
    expect(kcpObject()?.metadata.finalizers).toContain(SYNC_FINALIZER);
    // Only kcp's 404 (placement still mirrors west): not evidence enough.
    kube.kcpOf(WS).objects.delete('synctargets||west');
    await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 2, { action: 'delete' }), 2);
    expect(kcpObject()?.metadata.finalizers).toContain(SYNC_FINALIZER);
    // west deregistered for good (no delete message will ever reach it): the next delete of the object completes.
    await world.doc.send(
      new PutCommand({ TableName: world.tableName, Item: { pk: 'CLUSTER#west', sk: `META#${WS}` } }),
    );
    await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 2, { action: 'delete' }), 3);
    expect(kcpObject()).toBeUndefined();
    expect((await world.syncState.get(ref, 'west'))?.state).toBe('deleted');
  });
});
