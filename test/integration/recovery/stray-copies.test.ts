import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OWNERS_ANNOTATION,
  SOURCE_UID_LABEL,
  WORKSPACE_ANNOTATION,
  downstreamNamespace,
} from '../../../lib/api/labels';
import { SyncMessageSchema, type SyncMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
import type { StoredDecision } from '../../../lib/ports/decision-store';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import * as build from '../../support/builders';
import { refOf, sqsEvent, syncMessage } from '../sync/world';
import { mirror, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const MINUTE = 60_000;
const NS = 'shop';
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const RBAC = 'rbac.authorization.k8s.io';
const CLUSTER_ROLES = { group: RBAC, version: 'v1', resource: 'clusterroles' };
const CLUSTER_ROLE_BINDINGS = { group: RBAC, version: 'v1', resource: 'clusterrolebindings' };
const OTHER_WS = 'root:other';

function clusterRole(name: string): KubeObject {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRole',
    metadata: { name },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
  };
}

/**
 * Issue 14: a ConfigMap applied to a cluster as a Deployment's dependency (not by its own decision) stayed there after
 * the Deployment moved away. The anti-entropy pass finds a copy recorded on a cluster its own decision does not name,
 * keeps it while a workload tmc placed there still references it, and otherwise removes it through the deletion gate
 * (counted first, deleted on a later sweep), by a sync message sync-apply carries out.
 */
describe('recovery sweep: dependency copies left on a cluster their own decision does not name', () => {
  let w: RecoveryWorld;
  let decisions: DynamoDecisionStore;
  const refs: Record<string, ObjectRef> = {};

  function decision(ref: ObjectRef, clusters: string[], extra: Partial<StoredDecision> = {}): StoredDecision {
    return build.storedDecision(ref, clusters, {
      message: `Placed on ${clusters.join(', ')}`,
      explanation: [
        ...clusters.map((cluster) => ({ cluster, chosen: true, total: 1 })),
        ...(clusters.includes('east') ? [] : [{ cluster: 'east', chosen: false, rejectedBy: 'placement', total: 0 }]),
      ],
      decidedAt: new Date(w.clock.now - 10 * MINUTE).toISOString(),
      ...extra,
    });
  }

  async function sent(): Promise<SyncMessage[]> {
    const out: SyncMessage[] = [];
    for (;;) {
      const got = await w.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: w.queues.sync.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!got.Messages?.length) return out;
      for (const m of got.Messages) {
        out.push(SyncMessageSchema.parse(JSON.parse(m.Body ?? '')));
        await w.sqs.send(new DeleteMessageCommand({ QueueUrl: w.queues.sync.url, ReceiptHandle: m.ReceiptHandle }));
      }
    }
  }

  const onEast = (name: string): KubeObject | undefined =>
    w.east.store().get(CONFIGMAPS, downstreamNamespace(WS, NS), name);

  beforeAll(async () => {
    w = await startRecoveryWorld();
    await new DynamoClusterInventory(w.world.doc, w.world.tableName).putMirror(mirror('east'));
    decisions = new DynamoDecisionStore(w.world.doc, w.world.tableName);
    const store = w.kcp.store(WS);
    store.create(
      { group: '', version: 'v1', resource: 'namespaces' },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    );
    for (const name of ['app-config', 'shared-config', 'worker-config']) {
      refs[name] = refOf(WS, store.create(CONFIGMAPS, build.configMap(name, { namespace: NS })), '', 'configmaps');
    }
    const uses = (name: string, config: string): KubeObject =>
      build.deployment(name, { namespace: NS, envFrom: [{ configMapRef: { name: config } }] });
    refs.web = refOf(WS, store.create(DEPLOYMENTS, uses('web', 'app-config')), 'apps', 'deployments');
    refs.api = refOf(WS, store.create(DEPLOYMENTS, uses('api', 'shared-config')), 'apps', 'deployments');
    refs.worker = refOf(WS, store.create(DEPLOYMENTS, uses('worker', 'worker-config')), 'apps', 'deployments');
  });
  afterAll(async () => {
    await w?.close();
  });

  it('removes the copy no placed workload references, on a later sweep, and keeps the ones still referenced', async () => {
    // The ConfigMaps' own decisions never named east; the three Deployments ran there and took them along.
    for (const name of ['app-config', 'shared-config', 'worker-config'])
      await decisions.put(decision(refs[name], ['west']));
    for (const name of ['web', 'api', 'worker']) await decisions.put(decision(refs[name], ['east']));
    const handler = makeSyncApplyHandler(w.world.applyDeps(w.kube));
    const toEast = ['web', 'api', 'worker'].map((name) => syncMessage(refs[name], 'east', 1));
    expect(await handler(sqsEvent(toEast))).toEqual({ batchItemFailures: [] });
    for (const name of ['app-config', 'shared-config', 'worker-config']) expect(onEast(name)).toBeDefined();

    // web moved to west (its copy on east removed); worker failed over (its copy on east waits for the cleanup);
    // api stays on east.
    await decisions.put(
      decision(refs.web, ['west'], {
        decisionVersion: 2,
        diff: { added: ['west'], removed: ['east'], changed: [], unchanged: [] },
      }),
    );
    expect(await handler(sqsEvent([syncMessage(refs.web, 'east', 2, { action: 'delete' })]))).toEqual({
      batchItemFailures: [],
    });
    await decisions.put(
      decision(refs.worker, ['west'], {
        decisionVersion: 2,
        explanation: [
          { cluster: 'west', chosen: true, total: 1 },
          { cluster: 'east', chosen: false, rejectedBy: 'health', total: 0 },
        ],
        diff: { added: ['west'], removed: ['east'], changed: [], unchanged: [] },
      }),
    );
    await sent();

    // First sweep: app-config's removal is counted by the gate, not made yet.
    const first = await runRecoverySweep(w.deps());
    expect(first.failures).toEqual([]);
    expect((await sent()).filter((m) => m.action === 'delete')).toEqual([]);
    expect(onEast('app-config')).toBeDefined();

    // A later sweep: the same removal, past the gate's wait, goes out; the referenced ones stay.
    w.clock.now += MINUTE;
    const second = await runRecoverySweep(w.deps());
    expect(second.failures).toEqual([]);
    const deletes = (await sent()).filter((m) => m.action === 'delete');
    expect(deletes.map((m) => `${m.ref.name}:${m.cluster}`)).toEqual(['app-config:east']);
    const why = (await w.store.actions(new Date(w.clock.now).toISOString().slice(0, 10), 50))
      .filter((a) => a.action === 'resync-unsynced')
      .map((a) => a.why);
    expect(why).toContain(
      'ConfigMap shop/app-config is not placed on east, no workload tmc placed there references it, but its copy there is still recorded',
    );

    expect(await handler(sqsEvent(deletes))).toEqual({ batchItemFailures: [] });
    expect(onEast('app-config')).toBeUndefined();
    expect(onEast('shared-config')).toBeDefined();
    expect(onEast('worker-config')).toBeDefined();

    // Converged: later sweeps send nothing, and an idle sweep costs the same as the one before it (the kept copies'
    // references are read again, one LIST per kind in their namespace; nothing else grows).
    const idleSweep = async (): Promise<number> => {
      w.clock.now += MINUTE;
      const before = w.kcp.requests.entries().length;
      const report = await runRecoverySweep(w.deps());
      expect(report.failures).toEqual([]);
      expect((await sent()).filter((m) => m.action === 'delete')).toEqual([]);
      return w.kcp.requests.entries().length - before;
    };
    const third = await idleSweep();
    expect(await idleSweep()).toBe(third);
    expect(onEast('shared-config')).toBeDefined();
    expect(onEast('worker-config')).toBeDefined();
  }, 60_000);
  it('keeps a stray copy while a list of its namespace in kcp fails, and removes it once the lists answer', async () => {
    // api moved to west too: shared-config is referenced by no workload placed on east any more.
    await decisions.put(
      decision(refs.api, ['west'], {
        decisionVersion: 2,
        diff: { added: ['west'], removed: ['east'], changed: [], unchanged: [] },
      }),
    );
    const handler = makeSyncApplyHandler(w.world.applyDeps(w.kube));
    expect(await handler(sqsEvent([syncMessage(refs.api, 'east', 2, { action: 'delete' })]))).toEqual({
      batchItemFailures: [],
    });
    await sent();
    // kcp answers 503 to lists of StatefulSets: whether a StatefulSet there references it is unknown.
    w.kcp.faults.set({ rules: [{ match: { verb: 'list', resource: 'statefulsets' }, respond: 503 }] });
    for (let i = 0; i < 2; i++) {
      w.clock.now += MINUTE;
      const report = await runRecoverySweep(w.deps());
      expect(report.failures.join('\n')).toContain('re-sending the lost sync messages');
      expect((await sent()).filter((m) => m.action === 'delete')).toEqual([]);
    }
    expect(onEast('shared-config')).toBeDefined();

    w.kcp.faults.clear();
    const deletes: SyncMessage[] = [];
    for (let i = 0; i < 2 && deletes.length === 0; i++) {
      w.clock.now += MINUTE;
      expect((await runRecoverySweep(w.deps())).failures).toEqual([]);
      deletes.push(...(await sent()).filter((m) => m.action === 'delete'));
    }
    expect(deletes.map((m) => `${m.ref.name}:${m.cluster}`)).toEqual(['shared-config:east']);
    expect(await handler(sqsEvent(deletes))).toEqual({ batchItemFailures: [] });
    expect(onEast('shared-config')).toBeUndefined();
    expect(onEast('worker-config')).toBeDefined();
  }, 60_000);

  describe('cluster-scoped copies', () => {
    const roles = ['auditor', 'binder', 'metrics-reader', 'viewer', 'scanner'];
    const onEastRole = (name: string): KubeObject | undefined => w.east.store().get(CLUSTER_ROLES, undefined, name);
    const deletesFor = (messages: SyncMessage[]): string[] =>
      messages.filter((m) => m.action === 'delete').map((m) => `${m.ref.name}:${m.cluster}`);
    const moved = new Set<string>();
    const moveToWest = async (ref: ObjectRef): Promise<void> => {
      if (moved.has(ref.name)) return;
      moved.add(ref.name);
      // Its delete from east was lost (and its last change, as recorded, names no east).
      await decisions.put(
        decision(ref, ['west'], {
          decisionVersion: 2,
          diff: { added: [], removed: [], changed: [], unchanged: ['west'] },
        }),
      );
    };

    beforeAll(async () => {
      const store = w.kcp.store(WS);
      for (const name of roles)
        refs[name] = refOf(WS, store.create(CLUSTER_ROLES, clusterRole(name)), RBAC, 'clusterroles');
      refs['binder-binding'] = refOf(
        WS,
        store.create(CLUSTER_ROLE_BINDINGS, {
          apiVersion: `${RBAC}/v1`,
          kind: 'ClusterRoleBinding',
          metadata: { name: 'binder-binding' },
          roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'binder' },
          subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: NS }],
        }),
        RBAC,
        'clusterrolebindings',
      );
      for (const name of [...roles, 'binder-binding']) await decisions.put(decision(refs[name], ['east']));
      const handler = makeSyncApplyHandler(w.world.applyDeps(w.kube));
      // The roles first: a binding waits for its role to be on the cluster.
      for (const batch of [roles, ['binder-binding']])
        expect(await handler(sqsEvent(batch.map((name) => syncMessage(refs[name], 'east', 1))))).toEqual({
          batchItemFailures: [],
        });
      for (const name of roles) expect(onEastRole(name)).toBeDefined();
      // Since then, east's metrics-reader was replaced by another workspace's copy of the same name, and a cluster
      // admin replaced viewer with a ClusterRole of their own: neither is this workspace's to remove.
      w.east.store().delete(CLUSTER_ROLES, undefined, 'metrics-reader');
      w.east.store().create(CLUSTER_ROLES, {
        ...clusterRole('metrics-reader'),
        metadata: {
          name: 'metrics-reader',
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [SOURCE_UID_LABEL]: 'other-uid' },
          annotations: {
            [WORKSPACE_ANNOTATION]: OTHER_WS,
            [OWNERS_ANNOTATION]: JSON.stringify([{ workspace: OTHER_WS, uid: 'other-uid', clusterKey: 'other' }]),
          },
        },
      });
      w.east.store().delete(CLUSTER_ROLES, undefined, 'viewer');
      w.east
        .store()
        .create(CLUSTER_ROLES, { ...clusterRole('viewer'), metadata: { name: 'viewer', labels: { team: 'ops' } } });
      await sent();
    });

    it("removes a ClusterRole no decision wants on a cluster, and never another workspace's or a non-tmc one", async () => {
      for (const name of ['auditor', 'binder', 'metrics-reader', 'viewer']) await moveToWest(refs[name]);
      const otherCopy = onEastRole('metrics-reader');
      const adminCopy = onEastRole('viewer');

      // First sweep: auditor's removal is counted, not made; binder stays for its binding placed on east; the two
      // copies that are not this workspace's only have their records cleared (nothing to delete, no gate).
      const handler = makeSyncApplyHandler(w.world.applyDeps(w.kube));
      const sweepAndSync = async (): Promise<string[]> => {
        w.clock.now += MINUTE;
        expect((await runRecoverySweep(w.deps())).failures).toEqual([]);
        const deletes = (await sent()).filter((m) => m.action === 'delete');
        expect(await handler(sqsEvent(deletes))).toEqual({ batchItemFailures: [] });
        return deletesFor(deletes).sort();
      };
      expect(await sweepAndSync()).toEqual(['metrics-reader:east', 'viewer:east']);
      expect(onEastRole('auditor')).toBeDefined();
      expect(await sweepAndSync()).toEqual(['auditor:east']);
      expect(onEastRole('auditor')).toBeUndefined();
      expect(onEastRole('binder')).toBeDefined();
      expect(onEastRole('metrics-reader')).toEqual(otherCopy);
      expect(onEastRole('viewer')).toEqual(adminCopy);
      expect((await w.world.syncState.get(refs['metrics-reader'], 'east'))?.state).toBe('deleted');

      // Converged: the next sweep sends nothing.
      expect(await sweepAndSync()).toEqual([]);
    }, 60_000);

    it.each([
      ['an empty list', { match: { verb: 'list', resource: 'clusterroles', logicalCluster: WS }, respond: 'empty' }],
      ['a failed list', { match: { verb: 'list', resource: 'clusterroles', logicalCluster: WS }, respond: 503 }],
      ['a 404 on its GET', { match: { verb: 'get', resource: 'clusterroles', logicalCluster: WS }, respond: 404 }],
    ] as const)(
      'removes nothing while kcp answers %s for it',
      async (_what, rule) => {
        await moveToWest(refs.scanner);
        w.kcp.faults.set({ rules: [rule] });
        try {
          for (let i = 0; i < 3; i++) {
            w.clock.now += MINUTE;
            await runRecoverySweep(w.deps());
            expect(deletesFor(await sent())).toEqual([]);
          }
        } finally {
          w.kcp.faults.clear();
        }
        expect(onEastRole('scanner')).toBeDefined();
      },
      60_000,
    );

    it('removes that copy once kcp answers completely again', async () => {
      const deletes: SyncMessage[] = [];
      for (let i = 0; i < 2 && deletes.length === 0; i++) {
        w.clock.now += MINUTE;
        expect((await runRecoverySweep(w.deps())).failures).toEqual([]);
        deletes.push(...(await sent()).filter((m) => m.action === 'delete'));
      }
      expect(deletesFor(deletes)).toEqual(['scanner:east']);
      const handler = makeSyncApplyHandler(w.world.applyDeps(w.kube));
      expect(await handler(sqsEvent(deletes))).toEqual({ batchItemFailures: [] });
      expect(onEastRole('scanner')).toBeUndefined();
    }, 60_000);
  });

  describe('downstream namespaces', () => {
    const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
    const onEastNs = (name: string): KubeObject | undefined =>
      w.east.store().get(NAMESPACES, undefined, downstreamNamespace(WS, name));

    it('closes a namespace tmc created on a cluster its Namespace moved away from, unless a copy of tmc is in it', async () => {
      const store = w.kcp.store(WS);
      const handler = makeSyncApplyHandler(w.world.applyDeps(w.kube));
      for (const name of ['quiet', 'busy']) {
        refs[`ns:${name}`] = refOf(
          WS,
          store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
          '',
          'namespaces',
        );
        await decisions.put(decision(refs[`ns:${name}`], ['east']));
      }
      refs['busy-config'] = refOf(
        WS,
        store.create(CONFIGMAPS, build.configMap('busy-config', { namespace: 'busy' })),
        '',
        'configmaps',
      );
      await decisions.put(decision(refs['busy-config'], ['east']));
      const applies = [refs['ns:quiet'], refs['ns:busy'], refs['busy-config']].map((ref) =>
        syncMessage(ref, 'east', 1),
      );
      expect(await handler(sqsEvent(applies))).toEqual({ batchItemFailures: [] });
      expect(onEastNs('quiet')).toBeDefined();
      expect(w.east.store().get(CONFIGMAPS, downstreamNamespace(WS, 'busy'), 'busy-config')).toBeDefined();

      // Both Namespaces moved to west; their delete messages from east were lost. busy's ConfigMap is still on east.
      for (const name of ['quiet', 'busy'])
        await decisions.put(
          decision(refs[`ns:${name}`], ['west'], {
            decisionVersion: 2,
            diff: { added: [], removed: [], changed: [], unchanged: ['west'] },
          }),
        );
      await sent();
      const deletes: SyncMessage[] = [];
      for (let i = 0; i < 2; i++) {
        w.clock.now += MINUTE;
        expect((await runRecoverySweep(w.deps())).failures).toEqual([]);
        deletes.push(...(await sent()).filter((m) => m.action === 'delete'));
      }
      expect(deletes.map((m) => `${m.ref.resource}/${m.ref.name}:${m.cluster}`)).toEqual(['namespaces/quiet:east']);
      expect(await handler(sqsEvent(deletes))).toEqual({ batchItemFailures: [] });
      const quiet = onEastNs('quiet');
      expect(quiet === undefined || quiet.metadata.deletionTimestamp !== undefined).toBe(true);
      expect(onEastNs('busy')?.metadata.deletionTimestamp).toBeUndefined();
      expect((await w.world.syncState.get(refs['ns:quiet'], 'east'))?.state).toBe('deleted');
    }, 60_000);
  });
});
