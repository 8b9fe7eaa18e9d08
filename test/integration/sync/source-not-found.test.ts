import { SYNC_FINALIZER, downstreamNamespace } from '../../../lib/api/labels';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { SOURCE_MISSING_RECHECK_SECONDS, syncOne } from '../../../lib/sync/apply';
import { FakeConnector } from './fake-kube';
import { refOf, startSyncWorld, syncMessage, type SyncWorld } from './world';
import * as build from '../../support/builders';

const WS = 'root:default';
const NS = 'billing';

const secret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'app-18-secret', namespace: NS, uid: 'uid-app-18-secret', finalizers: [SYNC_FINALIZER] },
  type: 'Opaque',
  data: { TOKEN: Buffer.from('not-a-real-token').toString('base64') },
};
const deployment = build.deployment('app-18', {
  namespace: NS,
  replicas: 2,
  container: 'app',
  image: 'nginx:1.27',
  metadata: { uid: 'uid-app-18', generation: 1, finalizers: [SYNC_FINALIZER] },
});

/** Issue 14, seed 1406: a 404 from kcp on the source is not evidence that the object was deleted. */
describe('sync-apply when kcp answers 404 for the source', () => {
  let world: SyncWorld;
  let kube: FakeConnector;
  beforeEach(async () => {
    world = await startSyncWorld();
    kube = new FakeConnector();
    kube.kcpOf(WS).put('secrets', secret);
    kube.kcpOf(WS).put('deployments', deployment);
  });
  afterEach(async () => world.close());

  const downstream = downstreamNamespace(WS, NS);

  it.each([
    ['Secret', 'secrets', '', secret],
    ['Deployment', 'deployments', 'apps', deployment],
  ])(
    'keeps the %s copy while its decision still wants the cluster, and deletes it once placement drops it',
    async (_kind, resource, group, object) => {
      const ref = refOf(WS, object, group, resource);
      const deps = world.applyDeps(kube);
      await world.putDecision(ref, 3, [{ name: 'east' }, { name: 'west' }]);
      for (const cluster of ['east', 'west'])
        expect(await syncOne(deps, syncMessage(ref, cluster, 3), 1)).toEqual({ result: 'applied' });
      const west = kube.clusterOf('west');
      expect(west.find(resource, downstream, ref.name)).toBeDefined();

      // kcp answers 404 to the GET (the simulator's get-404 rule) while the object is still there.
      const kcp = kube.kcpOf(WS);
      jest.spyOn(kcp, 'get').mockResolvedValueOnce(undefined);
      const deletesBefore = west.count('delete');
      const result = await syncOne(deps, syncMessage(ref, 'west', 3, { object: undefined }), 2);
      expect(result).toEqual({
        result: 'deferred',
        delaySeconds: SOURCE_MISSING_RECHECK_SECONDS,
        category: 'resource-not-found',
      });
      expect(west.count('delete')).toBe(deletesBefore);
      expect(west.find(resource, downstream, ref.name)).toBeDefined();
      expect((await world.syncState.get(ref, 'west'))?.state).not.toBe('deleted');
      // kcp's finalizer is not released either: nothing was deleted.
      expect(kcp.find(resource, NS, ref.name)?.metadata.finalizers).toContain(SYNC_FINALIZER);

      // The object really goes: the sweep confirmed its absence and placement dropped every cluster (decision v4).
      kcp.objects.delete(`${resource}|${NS}|${ref.name}`);
      // The redelivered v3 apply message is behind the decision now, and the decision no longer wants west.
      await world.putDecision(ref, 4, []);
      expect(await syncOne(deps, syncMessage(ref, 'west', 3), 3)).toEqual({ result: 'deleted' });
      expect(west.find(resource, downstream, ref.name)).toBeUndefined();
      expect(await syncOne(deps, syncMessage(ref, 'east', 4, { action: 'delete' }), 1)).toEqual({ result: 'deleted' });
      expect(kube.clusterOf('east').find(resource, downstream, ref.name)).toBeUndefined();
    },
  );

  it('applies again once kcp answers: the deferred message loses nothing', async () => {
    const ref = refOf(WS, deployment, 'apps', 'deployments');
    const deps = world.applyDeps(kube);
    await world.putDecision(ref, 1, [{ name: 'west' }]);
    const kcp = kube.kcpOf(WS);
    jest.spyOn(kcp, 'get').mockResolvedValueOnce(undefined);
    expect((await syncOne(deps, syncMessage(ref, 'west', 1, { object: undefined }), 1)).result).toBe('deferred');
    expect(kube.clusterOf('west').count('delete')).toBe(0);
    expect(await syncOne(deps, syncMessage(ref, 'west', 1, { object: undefined }), 2)).toEqual({ result: 'applied' });
    expect(kube.clusterOf('west').find('deployments', downstream, 'app-18')).toBeDefined();
  });
});
