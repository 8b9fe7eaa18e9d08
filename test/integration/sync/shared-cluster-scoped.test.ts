import {
  CONTENT_HASH_ANNOTATION,
  OWNERS_ANNOTATION,
  SOURCE_UID_LABEL,
  WORKSPACE_ANNOTATION,
  clusterStatusAnnotation,
} from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { startSimServer, type SimServer } from '../../../lib/sim';
import { makeKcpEventRecorder } from '../../../lib/sync/kcp-event-recorder';
import { ownersOf } from '../../../lib/sync/shared-ownership';
import { SimConnector } from './sim-connector';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from './world';

const A = 'root:team-a';
const B = 'root:team-b';
const CLUSTER = 'east';
const CLUSTER_ROLES = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' };

function clusterRole(name: string, verbs: string[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { app: 'guestbook' } },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs }],
  };
}

describe('a cluster-scoped object applied by two workspaces to one cluster', () => {
  let kcp: SimServer;
  let east: SimServer;
  let world: SyncWorld;
  let kube: SimConnector;
  const refs: Record<string, ObjectRef> = {};
  let version = 1;

  const downstream = (name: string): KubeObject | undefined => east.store().get(CLUSTER_ROLES, undefined, name);
  const sync = async (ref: ObjectRef, action: 'apply' | 'delete' = 'apply'): Promise<void> => {
    version += 1;
    await world.putDecision(ref, version, action === 'apply' ? [{ name: CLUSTER }] : []);
    const handler = makeSyncApplyHandler({ ...world.applyDeps(kube), events: makeKcpEventRecorder(kube) });
    expect(await handler(sqsEvent([syncMessage(ref, CLUSTER, version, { action })]))).toEqual({
      batchItemFailures: [],
    });
  };
  const writes = (name?: string): number => east.requests.count({ writes: true, resource: 'clusterroles', name });

  beforeAll(async () => {
    kcp = await startSimServer({ name: 'kcp', mode: 'kcp' });
    east = await startSimServer({ name: CLUSTER, mode: 'cluster' });
    world = await startSyncWorld();
    kube = new SimConnector(kcp, { [CLUSTER]: east });
    for (const ws of [A, B]) {
      kcp.createLogicalCluster(ws);
      await world.putCluster(ws, CLUSTER);
      const store = kcp.store(ws);
      // Identical in both workspaces: shared. Different verbs: a conflict for whichever comes second.
      refs[`${ws}/reader`] = refOf(
        ws,
        store.create(CLUSTER_ROLES, clusterRole('reader', ['get', 'list'])),
        'rbac.authorization.k8s.io',
        'clusterroles',
      );
      refs[`${ws}/writer`] = refOf(
        ws,
        store.create(CLUSTER_ROLES, clusterRole('writer', ws === A ? ['get'] : ['get', 'create', 'delete'])),
        'rbac.authorization.k8s.io',
        'clusterroles',
      );
    }
  });
  afterAll(async () => {
    kube.close();
    await world.close();
    await Promise.all([kcp.stop(), east.stop()]);
  });

  it('the first workspace creates the copy and is recorded as its one owner', async () => {
    await sync(refs[`${A}/reader`]);
    await sync(refs[`${A}/writer`]);
    const reader = downstream('reader');
    expect(ownersOf(reader!).map((o) => o.workspace)).toEqual([A]);
    expect(reader?.metadata.annotations?.[CONTENT_HASH_ANNOTATION]).toMatch(/^sha256:/);
  });

  it('identical content from the second workspace is shared: one owners update, content untouched', async () => {
    const before = writes();
    const rules = downstream('reader')?.rules;
    await sync(refs[`${B}/reader`]);
    expect(writes() - before).toBe(1);
    const reader = downstream('reader');
    expect(
      ownersOf(reader!)
        .map((o) => o.workspace)
        .sort(),
    ).toEqual([A, B]);
    expect(reader?.rules).toEqual(rules);
    expect(reader?.metadata.annotations?.[WORKSPACE_ANNOTATION]).toBe(A);
    expect((await world.syncState.get(refs[`${B}/reader`], CLUSTER))?.state).toBe('applied');
  });

  it('different content from the second workspace is a conflict naming the first; the copy is untouched', async () => {
    // Writes to this copy only: the request log may record the previous test's last patch (of `reader`) a moment late.
    const before = writes('writer');
    await sync(refs[`${B}/writer`]);
    expect(writes('writer') - before).toBe(0);
    expect(downstream('writer')?.rules).toEqual(clusterRole('writer', ['get']).rules);
    expect(ownersOf(downstream('writer')!).map((o) => o.workspace)).toEqual([A]);
    const record = await world.syncState.get(refs[`${B}/writer`], CLUSTER);
    expect(record?.state).toBe('conflict');
    expect(record?.lastError?.message).toContain(`workspace ${A}`);
    const detail = kcp.store(B).get(CLUSTER_ROLES, undefined, 'writer')?.metadata.annotations?.[
      clusterStatusAnnotation(B, CLUSTER)
    ];
    expect(detail).toContain('SyncConflict');
    expect(detail).toContain(A);
    // And an Event on team-b's ClusterRole, where `kubectl describe` shows it (a cluster-scoped object's: in default).
    const events = kcp
      .store(B)
      .list({ group: '', version: 'v1', resource: 'events' }, 'default')
      .filter((e) => (e.involvedObject as { name?: string }).name === 'writer');
    expect(events.map((e) => [e.reason, e.type, (e.involvedObject as { name?: string }).name])).toEqual([
      ['SyncConflict', 'Warning', 'writer'],
    ]);
    expect(events[0].message).toContain(`workspace ${A}`);
  });

  it('the first workspace changing a shared copy is refused: the other still uses it as it is', async () => {
    const client = await kube.kcp(A);
    await client.mergePatch(refs[`${A}/reader`], { rules: clusterRole('reader', ['get', 'list', 'watch']).rules });
    const before = writes('reader');
    await sync(refs[`${A}/reader`]);
    expect(writes('reader') - before).toBe(0);
    expect(downstream('reader')?.rules).toEqual(clusterRole('reader', ['get', 'list']).rules);
    expect((await world.syncState.get(refs[`${A}/reader`], CLUSTER))?.lastError?.message).toContain(`workspace ${B}`);
    await client.mergePatch(refs[`${A}/reader`], { rules: clusterRole('reader', ['get', 'list']).rules });
  });

  it('a delete by one owner keeps the copy for the other and hands it the ownership labels', async () => {
    await sync(refs[`${A}/reader`], 'delete');
    const reader = downstream('reader');
    expect(reader).toBeDefined();
    expect(ownersOf(reader!).map((o) => o.workspace)).toEqual([B]);
    expect(reader?.metadata.annotations?.[WORKSPACE_ANNOTATION]).toBe(B);
    expect(reader?.metadata.labels?.[SOURCE_UID_LABEL]).toBe(refs[`${B}/reader`].uid);
    expect(JSON.parse(reader?.metadata.annotations?.[OWNERS_ANNOTATION] ?? '[]')).toHaveLength(1);
  });

  it('a cluster-scoped object tmc did not create is never modified or deleted', async () => {
    east.store().create(CLUSTER_ROLES, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'operator-made' },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    });
    const ref = refOf(
      A,
      kcp.store(A).create(CLUSTER_ROLES, clusterRole('operator-made', ['get', 'delete'])),
      'rbac.authorization.k8s.io',
      'clusterroles',
    );
    const before = writes('operator-made');
    await sync(ref);
    await sync(ref, 'delete');
    expect(writes('operator-made')).toBe(before);
    const copy = downstream('operator-made');
    expect(copy?.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    expect(copy?.metadata.annotations?.[OWNERS_ANNOTATION]).toBeUndefined();
  });

  it('the last owner deletes it', async () => {
    await sync(refs[`${B}/reader`], 'delete');
    expect(downstream('reader')).toBeUndefined();
    // The refused workspace never owned the writer copy: its delete leaves it to the first.
    await sync(refs[`${B}/writer`], 'delete');
    expect(downstream('writer')).toBeDefined();
    await sync(refs[`${A}/writer`], 'delete');
    expect(downstream('writer')).toBeUndefined();
  });
});
