import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoRecoveryStore } from '../../../lib/adapters/dynamodb/recovery-store';
import { stateLabel, SYNC_FINALIZER } from '../../../lib/api/labels';
import type { PlacementMessage, SyncMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { ensureTable, startLocalDynamo } from '../../../lib/local/aws-services';
import { makePolicySource } from '../../../lib/placement/policy-source';
import { reconcilePlacement, type PlacementDeps } from '../../../lib/placement/reconcile';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { noMetrics } from '../../../lib/ports/telemetry';
import { confirmDeletions, DeletionGuard, unplaceScope } from '../../../lib/recovery/deletion-guard';
import { DEFAULT_GUARD } from '../../../lib/recovery/rules';
import { placedCondition } from '../../../lib/sync/status/placed-condition';
import { memoryLog } from '../../../lib/sync/sync-log';
import { fakeConnector, FakeKcp, MemoryQueue } from './fake-kcp';

const WS = 'root:test';
const trace = { traceId: 't-1', enqueuedAt: new Date(0).toISOString() };
const depRef = (name: string): ObjectRef => ({ workspace: WS, group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'default', name });
const stRef = (name: string): ObjectRef => ({ workspace: WS, group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets', kind: 'SyncTarget', name });
const msg = (ref: ObjectRef, reason: PlacementMessage['reason']): PlacementMessage => ({ type: 'placement', ref, reason, trace });
const summary = (messages: SyncMessage[]): string[] => messages.map((m) => `${m.action}:${m.cluster}:${m.ref.name}`).sort();
const EAST_SCOPE = unplaceScope(WS, 'east', { group: 'apps', version: 'v1', resource: 'deployments' });

function syncTarget(name: string, region: string): KubeObject {
  return {
    apiVersion: 'workload.kcp.io/v1alpha1',
    kind: 'SyncTarget',
    metadata: { name, labels: { 'topology.kubernetes.io/region': region } },
    spec: { workloadCluster: { name, endpoint: `https://${name}.example:6443`, credentials: { secretRef: { namespace: 'tmc', name } } } },
  };
}

function deployment(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', generation: 1, finalizers: [SYNC_FINALIZER] },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
  };
}

const placement = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'scheduling.kcp.io/v1alpha1', kind: 'Placement', metadata: { name }, spec });

/**
 * Un-placement by a decision passes the mass-deletion guard (issue 14): a decision computed from complete reads is
 * the truth, but when it removes many objects of one type from a cluster at once (the Placement that selected them
 * deleted) the removals are held, the copies stay and say why, until a person confirms or the recheck delay passes.
 */
describe('placement: removals by decisions pass the mass-deletion guard', () => {
  let stop: () => Promise<void>;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let seq = 0;

  beforeAll(async () => {
    const dynamo = await startLocalDynamo();
    stop = dynamo.stop;
    client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  });
  afterAll(async () => {
    client.destroy();
    await stop();
  });

  /** `count` Deployments placed on east by Placement `web` (beside a Placement `other` for another team's namespaces). */
  async function world(count: number): Promise<{ deps: PlacementDeps; kcp: FakeKcp; sync: MemoryQueue<SyncMessage>; decisions: DynamoDecisionStore; recovery: DynamoRecoveryStore; clock: { now: number }; guard: DeletionGuard; names: string[] }> {
    const table = `unplace-${++seq}`;
    await ensureTable(client, table);
    const clock = { now: Date.parse('2026-01-01T12:00:00Z') };
    const kcp = new FakeKcp();
    const log = memoryLog();
    const recovery = new DynamoRecoveryStore(doc, table);
    const guard = new DeletionGuard({ store: recovery, metrics: noMetrics, log, now: () => clock.now });
    const sync = new MemoryQueue<SyncMessage>('sync');
    const decisions = new DynamoDecisionStore(doc, table);
    const deps: PlacementDeps = {
      kube: fakeConnector(kcp),
      decisions,
      inventory: new DynamoClusterInventory(doc, table),
      policies: makePolicySource(fakeConnector(kcp), log, { ttlMs: 0 }),
      syncQueue: sync,
      placementQueue: new MemoryQueue<PlacementMessage>('placement'),
      log,
      metrics: noMetrics,
      now: () => clock.now,
      rereadDelaysMs: [],
      deletionGuard: guard,
      removalGuard: guard,
      contentKey: async () => Buffer.from('unplace-test-content-key-0123456789'),
    };
    kcp.put('', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { team: 'a' } } });
    for (const [name, region] of [['east', 'us-east-1'], ['west', 'us-west-2']] as const) {
      kcp.put('workload.kcp.io', 'synctargets', syncTarget(name, region));
      await reconcilePlacement(deps, msg(stRef(name), 'cluster-change'));
    }
    kcp.put('scheduling.kcp.io', 'placements', placement('web', { namespaceSelector: { matchLabels: { team: 'a' } }, clusterConstraints: { regions: ['us-east-1'] } }));
    kcp.put('scheduling.kcp.io', 'placements', placement('other', { namespaceSelector: { matchLabels: { team: 'b' } } }));
    const names = Array.from({ length: count }, (_, i) => `web-${String(i).padStart(2, '0')}`);
    for (const name of names) {
      kcp.put('apps', 'deployments', deployment(name));
      await reconcilePlacement(deps, msg(depRef(name), 'event'));
    }
    expect(summary(sync.drain())).toEqual(names.map((n) => `apply:east:${n}`));
    return { deps, kcp, sync, decisions, recovery, clock, guard, names };
  }

  it('holds the mass removal when the Placement that selected 20 Deployments is deleted, and says so', async () => {
    const w = await world(20);
    w.kcp.remove('scheduling.kcp.io', 'placements', undefined, 'web');
    for (const name of w.names) await reconcilePlacement(w.deps, msg(depRef(name), 'placement-change'));

    // Removals are counted as they come: the burst passes the relative threshold (more than half of the workspace's
    // 20 Deployments) at the 11th; from then on nothing more is removed from east.
    const allowed = Math.floor(DEFAULT_GUARD.maxShare * 20);
    const deletes = w.sync.drain();
    expect(summary(deletes)).toEqual(w.names.slice(0, allowed).map((n) => `delete:east:${n}`));
    const hold = await w.recovery.hold(EAST_SCOPE);
    expect(hold).toMatchObject({ scope: EAST_SCOPE, planned: allowed + 1, total: 20 });
    expect(hold?.reason).toContain(`tmc recovery confirm ${EAST_SCOPE}`);
    expect(hold?.refs.map((r) => r.name)).toEqual(w.names.slice(allowed));

    // A held object stays decided onto east (its copy is kept) and its Placed condition says why.
    const kept = await w.decisions.get(depRef(w.names[19]));
    expect(kept).toMatchObject({ clusters: [{ name: 'east' }], reason: 'DeletionHeld', scheduled: false });
    const placed = placedCondition(kept, []);
    expect(placed).toMatchObject({ status: 'False', reason: 'DeletionHeld' });
    expect(placed?.message).toContain(`tmc recovery confirm ${EAST_SCOPE}`);
    expect((await w.kcp.get(depRef(w.names[19])))?.metadata.labels).toEqual({ [stateLabel(WS, 'east')]: 'Sync' });
    expect((await w.kcp.get(depRef(w.names[0])))?.metadata.labels).toEqual({});

    // Asked again while held (a resync): still nothing removed, nothing counted twice.
    await reconcilePlacement(w.deps, msg(depRef(w.names[19]), 'resync'));
    expect(w.sync.drain().filter((m) => m.action === 'delete')).toEqual([]);

    // A person confirms: placement, asked again, removes the held objects.
    await confirmDeletions(w.recovery, EAST_SCOPE, 'alice', w.clock.now);
    for (const name of w.names.slice(allowed)) await reconcilePlacement(w.deps, msg(depRef(name), 'resync'));
    expect(summary(w.sync.drain())).toEqual(w.names.slice(allowed).map((n) => `delete:east:${n}`));
    expect(await w.decisions.get(depRef(w.names[19]))).toMatchObject({ clusters: [], reason: 'NoMatchingPlacement' });
  });

  it('moves a mass of objects to the new cluster at once while their removal from the old one is held', async () => {
    const w = await world(12);
    w.kcp.put('scheduling.kcp.io', 'placements', placement('web', { namespaceSelector: { matchLabels: { team: 'a' } }, clusterConstraints: { regions: ['us-west-2'] } }));
    for (const name of w.names) await reconcilePlacement(w.deps, msg(depRef(name), 'placement-change'));
    const sent = summary(w.sync.drain());
    expect(sent.filter((s) => s.startsWith('apply:west'))).toHaveLength(12);
    expect(sent.filter((s) => s.startsWith('delete:east'))).toHaveLength(6); // 7 of 12 is more than half
    expect(await w.decisions.get(depRef(w.names[11]))).toMatchObject({ clusters: [{ name: 'west' }, { name: 'east' }], reason: 'DeletionHeld' });
  });

  it('lets one object moving, and a few, go straight through', async () => {
    const w = await world(20);
    w.kcp.put('scheduling.kcp.io', 'placements', placement('web', { namespaceSelector: { matchLabels: { team: 'a' } }, clusterConstraints: { regions: ['us-west-2'] } }));
    for (const name of w.names.slice(0, DEFAULT_GUARD.minDeletions - 1)) await reconcilePlacement(w.deps, msg(depRef(name), 'placement-change'));
    expect(summary(w.sync.drain())).toEqual(w.names.slice(0, DEFAULT_GUARD.minDeletions - 1).flatMap((n) => [`apply:west:${n}`, `delete:east:${n}`]).sort());
    expect(await w.recovery.holds()).toEqual([]);
  });

  it('releases a held un-placement once the recheck delay has passed, and placement removes what it still removes', async () => {
    const w = await world(8);
    w.kcp.remove('scheduling.kcp.io', 'placements', undefined, 'web');
    for (const name of w.names) await reconcilePlacement(w.deps, msg(depRef(name), 'placement-change'));
    expect(w.sync.drain()).toHaveLength(4);
    const hold = await w.recovery.hold(EAST_SCOPE);
    expect(hold).toBeDefined();
    if (!hold) return;

    expect(await w.guard.recheckRemovals(hold)).toBe(hold); // not yet
    w.clock.now += DEFAULT_GUARD.recheckSeconds * 1000;
    const released = await w.guard.recheckRemovals(hold);
    expect(released.confirmedBy).toContain('recheck');
    // The sweep asks placement again about the held objects (tendHolds): the same answer now goes ahead.
    for (const name of w.names.slice(4)) await reconcilePlacement(w.deps, msg(depRef(name), 'resync'));
    expect(summary(w.sync.drain())).toEqual(w.names.slice(4).map((n) => `delete:east:${n}`));
  });
});
