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
import { memoryLog } from '../../../lib/observability/log';
import * as build from '../../support/builders';
import { fakeConnector, FakeKcp, MemoryQueue } from './fake-kcp';

const WS = 'root:test';
const depRef = (name: string): ObjectRef => build.ref(WS, build.TYPES.deployments, name);
const stRef = (name: string): ObjectRef => build.ref(WS, build.TYPES.synctargets, name);
const msg = build.placementMessage;
const summary = (messages: SyncMessage[]): string[] =>
  messages.map((m) => `${m.action}:${m.cluster}:${m.ref.name}`).sort();
const EAST_SCOPE = unplaceScope(WS, 'east', { group: 'apps', version: 'v1', resource: 'deployments' });

function syncTarget(name: string, region: string): KubeObject {
  return {
    apiVersion: 'workload.kcp.io/v1alpha1',
    kind: 'SyncTarget',
    metadata: { name, labels: { 'topology.kubernetes.io/region': region } },
    spec: {
      workloadCluster: {
        name,
        endpoint: `https://${name}.example:6443`,
        credentials: { secretRef: { namespace: 'tmc', name } },
      },
    },
  };
}

function deployment(name: string): KubeObject {
  return build.deployment(name, { replicas: 2, metadata: { generation: 1, finalizers: [SYNC_FINALIZER] } });
}

const placement = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'scheduling.kcp.io/v1alpha1',
  kind: 'Placement',
  metadata: { name },
  spec,
});

/**
 * Un-placement by a decision passes the mass-deletion guard (issue 14): a decision computed from complete reads is
 * the truth, but when it removes many objects of one type from a cluster at once (the Placement that selected them
 * deleted) the removals are held — all of them: each is counted first and made only after a confirm interval — the
 * copies stay and say why, until a person confirms or the recheck delay passes.
 */
describe('placement: removals by decisions pass the mass-deletion guard', () => {
  let stop: () => Promise<void>;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let seq = 0;

  beforeAll(async () => {
    const dynamo = await startLocalDynamo();
    stop = dynamo.stop;
    client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  });
  afterAll(async () => {
    client.destroy();
    await stop();
  });

  /** `count` Deployments placed on east by Placement `web` (beside a Placement `other` for another team's namespaces). */
  async function world(count: number): Promise<{
    deps: PlacementDeps;
    kcp: FakeKcp;
    sync: MemoryQueue<SyncMessage>;
    decisions: DynamoDecisionStore;
    recovery: DynamoRecoveryStore;
    clock: { now: number };
    guard: DeletionGuard;
    names: string[];
  }> {
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
    kcp.put('', 'namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'default', labels: { team: 'a' } },
    });
    for (const [name, region] of [
      ['east', 'us-east-1'],
      ['west', 'us-west-2'],
    ] as const) {
      kcp.put('workload.kcp.io', 'synctargets', syncTarget(name, region));
      await reconcilePlacement(deps, msg(stRef(name), 'cluster-change'));
    }
    kcp.put(
      'scheduling.kcp.io',
      'placements',
      placement('web', {
        namespaceSelector: { matchLabels: { team: 'a' } },
        clusterConstraints: { regions: ['us-east-1'] },
      }),
    );
    kcp.put(
      'scheduling.kcp.io',
      'placements',
      placement('other', { namespaceSelector: { matchLabels: { team: 'b' } } }),
    );
    const names = Array.from({ length: count }, (_, i) => `web-${String(i).padStart(2, '0')}`);
    for (const name of names) {
      kcp.put('apps', 'deployments', deployment(name));
      await reconcilePlacement(deps, msg(depRef(name), 'event'));
    }
    expect(summary(sync.drain())).toEqual(names.map((n) => `apply:east:${n}`));
    (deps.placementQueue as MemoryQueue<PlacementMessage>).drain();
    return { deps, kcp, sync, decisions, recovery, clock, guard, names };
  }

  /** Delivers the re-asks placement queued for removals waiting to be counted, once their wait has passed. */
  async function reask(w: Awaited<ReturnType<typeof world>>, only?: string[]): Promise<string[]> {
    // Beside them, the namespace's move asked about every object in it again (followNamespace): delivered too.
    const queued = (w.deps.placementQueue as MemoryQueue<PlacementMessage>)
      .drain()
      .filter((m) => m.ref.resource === 'deployments' && (!only || only.includes(m.ref.name)));
    w.clock.now += (DEFAULT_GUARD.removalConfirmSeconds + 1) * 1000;
    for (const m of queued) await reconcilePlacement(w.deps, m);
    return queued
      .filter((m) => m.reason === 'resync')
      .map((m) => m.ref.name)
      .sort();
  }

  it('holds the whole mass removal when the only Placement selecting 40 Deployments is deleted: none is deleted', async () => {
    const w = await world(40);
    w.kcp.remove('scheduling.kcp.io', 'placements', undefined, 'web');
    for (const name of w.names) await reconcilePlacement(w.deps, msg(depRef(name), 'placement-change'));

    // Every removal is counted before any is made: the first object places its namespace, which leaves east, and
    // that move counts all 40 of its objects as one plan (more than half of the workspace's 40 Deployments): the
    // scope is held before the first object's removal, and nothing leaves east.
    expect(w.sync.drain().filter((m) => m.action === 'delete')).toEqual([]);
    const hold = await w.recovery.hold(EAST_SCOPE);
    expect(hold).toMatchObject({ scope: EAST_SCOPE, planned: 40, total: 40 });
    expect(hold?.reason).toContain(`tmc recovery confirm ${EAST_SCOPE}`);
    // None waits to be counted: all are held at once.
    expect(await reask(w)).toEqual([]);
    expect(w.sync.drain().filter((m) => m.action === 'delete')).toEqual([]);
    for (const name of [w.names[0], w.names[39]]) {
      const kept = await w.decisions.get(depRef(name));
      expect(kept).toMatchObject({ clusters: [{ name: 'east' }], reason: 'DeletionHeld', scheduled: false });
      const placed = placedCondition(kept, []);
      expect(placed).toMatchObject({ status: 'False', reason: 'DeletionHeld' });
      expect(placed?.message).toContain(`tmc recovery confirm ${EAST_SCOPE}`);
      expect((await w.kcp.get(depRef(name)))?.metadata.labels).toEqual({ [stateLabel(WS, 'east')]: 'Sync' });
    }

    // Asked again while held (a resync): still nothing removed.
    await reconcilePlacement(w.deps, msg(depRef(w.names[19]), 'resync'));
    expect(w.sync.drain().filter((m) => m.action === 'delete')).toEqual([]);

    // A person confirms: placement, asked again about every held object (as the sweep does), removes them all.
    const confirmed = await confirmDeletions(w.recovery, EAST_SCOPE, 'alice', w.clock.now);
    if (!confirmed) throw new Error('nothing held');
    const held = await w.guard.heldRemovals(confirmed);
    expect(held.map((r) => r.name).sort()).toEqual(w.names);
    for (const ref of held) await reconcilePlacement(w.deps, msg(ref, 'resync'));
    expect(summary(w.sync.drain())).toEqual(w.names.map((n) => `delete:east:${n}`));
    expect(await w.decisions.get(depRef(w.names[39]))).toMatchObject({ clusters: [], reason: 'NoMatchingPlacement' });
  });

  it('counts the whole plan when the Placement is deleted, so none leaves however slowly its fan-out is worked off', async () => {
    const w = await world(40);
    const queue = w.deps.placementQueue as MemoryQueue<PlacementMessage>;
    w.kcp.remove('scheduling.kcp.io', 'placements', undefined, 'web');
    // The Placement's own delete fans out: the plan (all 40 leave east with their namespace) is counted first, and
    // the scope is held before any object is asked.
    await reconcilePlacement(w.deps, msg(build.ref(WS, build.TYPES.placements, 'web'), 'delete'));
    expect(await w.recovery.hold(EAST_SCOPE)).toMatchObject({ planned: 40, total: 40 });
    const fanout = queue.drain().filter((m) => m.ref.resource === 'deployments');
    expect(fanout.map((m) => m.ref.name).sort()).toEqual(w.names);

    // Worked off slowly (a loaded machine: one object every 2 s), each waiting object asked again 16 s later, so the
    // first ones' waits end long before the last object is asked: still, none is removed.
    const due: Array<{ at: number; message: PlacementMessage }> = [];
    const deletes: SyncMessage[] = [];
    for (let next = fanout.shift(); next !== undefined || due.length; next = fanout.shift()) {
      w.clock.now += 2_000;
      const ready = due.filter((d) => d.at <= w.clock.now);
      for (const d of ready) due.splice(due.indexOf(d), 1);
      for (const message of [...ready.map((d) => d.message), ...(next ? [next] : [])]) {
        await reconcilePlacement(w.deps, message);
        for (const again of queue.drain().filter((m) => m.reason === 'resync'))
          due.push({ at: w.clock.now + (DEFAULT_GUARD.removalConfirmSeconds + 1) * 1000, message: again });
      }
      deletes.push(...w.sync.drain().filter((m) => m.action === 'delete'));
    }
    expect(deletes).toEqual([]);
    for (const name of w.names)
      expect(await w.decisions.get(depRef(name))).toMatchObject({
        clusters: [{ name: 'east' }],
        reason: 'DeletionHeld',
      });
  });

  it('moves a mass of objects to the new cluster at once while their removal from the old one is held', async () => {
    const w = await world(12);
    w.kcp.put(
      'scheduling.kcp.io',
      'placements',
      placement('web', {
        namespaceSelector: { matchLabels: { team: 'a' } },
        clusterConstraints: { regions: ['us-west-2'] },
      }),
    );
    for (const name of w.names) await reconcilePlacement(w.deps, msg(depRef(name), 'placement-change'));
    const sent = summary(w.sync.drain());
    expect(sent.filter((s) => s.startsWith('apply:west'))).toHaveLength(12);
    expect(sent.filter((s) => s.startsWith('delete:'))).toEqual([]);
    expect(await reask(w)).toEqual([]); // the namespace's move counted all 12 first: none waited
    expect(w.sync.drain().filter((m) => m.action === 'delete')).toEqual([]);
    for (const name of w.names)
      expect(await w.decisions.get(depRef(name))).toMatchObject({
        clusters: [{ name: 'west' }, { name: 'east' }],
        reason: 'DeletionHeld',
      });
  });

  it('lets a few objects moving go once their removals are counted', async () => {
    const w = await world(4);
    const few = w.names;
    w.kcp.put(
      'scheduling.kcp.io',
      'placements',
      placement('web', {
        namespaceSelector: { matchLabels: { team: 'a' } },
        clusterConstraints: { regions: ['us-west-2'] },
      }),
    );
    for (const name of few) await reconcilePlacement(w.deps, msg(depRef(name), 'placement-change'));
    // The new cluster gets its copies at once; the old one keeps its copies for the confirm interval.
    expect(summary(w.sync.drain())).toEqual(few.map((n) => `apply:west:${n}`));
    expect(await w.decisions.get(depRef(few[0]))).toMatchObject({
      clusters: [{ name: 'west' }, { name: 'east' }],
      reason: 'Scheduled',
    });
    // Asked again too early (another event): still waiting, asked again later.
    await reconcilePlacement(w.deps, msg(depRef(few[0]), 'event'));
    expect(w.sync.drain()).toEqual([]);
    expect(await reask(w, few)).toEqual([few[0], ...few].sort());
    expect(summary(w.sync.drain()).filter((s) => s.startsWith('delete:'))).toEqual(few.map((n) => `delete:east:${n}`));
    expect(await w.decisions.get(depRef(few[0]))).toMatchObject({ clusters: [{ name: 'west' }], reason: 'Scheduled' });
    expect(await w.recovery.holds()).toEqual([]);
  });

  it('releases a held un-placement once the recheck delay has passed, and placement removes what it still removes', async () => {
    const w = await world(8);
    w.kcp.remove('scheduling.kcp.io', 'placements', undefined, 'web');
    for (const name of w.names) await reconcilePlacement(w.deps, msg(depRef(name), 'placement-change'));
    expect(await reask(w)).toEqual([]); // the namespace's move counted all 8 first and raised the hold
    expect(w.sync.drain().filter((m) => m.action === 'delete')).toEqual([]);
    const hold = await w.recovery.hold(EAST_SCOPE);
    expect(hold).toBeDefined();
    if (!hold) return;

    expect(await w.guard.recheckRemovals(hold)).toBe(hold); // not yet
    w.clock.now += DEFAULT_GUARD.recheckSeconds * 1000;
    const released = await w.guard.recheckRemovals(hold);
    expect(released.confirmedBy).toContain('recheck');
    // The sweep asks placement again about the held objects (tendHolds): the same answer now goes ahead.
    for (const ref of await w.guard.heldRemovals(released)) await reconcilePlacement(w.deps, msg(ref, 'resync'));
    expect(summary(w.sync.drain())).toEqual(w.names.map((n) => `delete:east:${n}`));
  });
});
