import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoRecoveryStore } from '../../../lib/adapters/dynamodb/recovery-store';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import type { PlacementMessage, SyncMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { memoryLog } from '../../../lib/observability/log';
import { contentHash } from '../../../lib/placement/content-hash';
import { makePolicySource } from '../../../lib/placement/policy-source';
import { reconcilePlacement, type PlacementDeps } from '../../../lib/placement/reconcile';
import type { KubeObject } from '../../../lib/ports/kube-client';
import type { SyncStateStore } from '../../../lib/ports/sync-state-store';
import { noMetrics } from '../../../lib/ports/telemetry';
import { confirmDeletions, DeletionGuard, vanishedScope } from '../../../lib/recovery/deletion-guard';
import {
  DEFAULT_RECOVERY_SETTINGS,
  type RecoverySweepDeps,
  type RecoverySweepReport,
} from '../../../lib/recovery/deps';
import { DEFAULT_GUARD } from '../../../lib/recovery/rules';
import { resyncUnsynced } from '../../../lib/recovery/resync';
import { resyncUnplaced } from '../../../lib/recovery/unplaced';
import * as build from '../../support/builders';
import { fakeConnector, FakeKcp, MemoryQueue } from '../placement/fake-kcp';
import { startSyncWorld, type SyncWorld } from '../sync/world';
import { mirror, WS } from './recovery-world';

const CM = build.TYPES.configmaps;
const cmRef = (name: string): ObjectRef => build.ref(WS, CM, name);
const CLUSTERS = ['east', 'west', 'north'];
const MINUTE = 60_000;

/** kcp whose list of ConfigMaps can fail, answer empty, or leave objects out (a partial page). */
class FaultyKcp extends FakeKcp {
  fault: 'none' | 'fail' | 'empty' | 'partial' = 'none';
  omit = new Set<string>();
  override async list(type: { group: string; version: string; resource: string }): Promise<KubeObject[]> {
    const all = await super.list(type);
    if (type.resource !== 'configmaps' || this.fault === 'none') return all;
    if (this.fault === 'fail') throw new Error('kcp: the server is currently unable to handle the request');
    if (this.fault === 'empty') return [];
    return all.filter((o) => !this.omit.has(o.metadata.name ?? ''));
  }
}

/**
 * docs/recovery.md, "Chaos figures", seed 505: objects deleted in kcp while their admissions were lost, with decisions
 * still placing them on three clusters and no copy anywhere. Nothing confirmed their absence (the orphan sweep sees
 * only copies), so placement kept the decisions and the anti-entropy pass re-sent their applies every run. The
 * unplaced pass's complete lists now feed the absence ledger; placement removes them through its one gate.
 */
describe('recovery sweep: objects that vanished from kcp before any copy was applied', () => {
  let world: SyncWorld;
  const clock = { now: Date.parse('2026-01-01T12:00:00Z') };
  const kcp = new FaultyKcp();
  const sync = new MemoryQueue<SyncMessage>('sync');
  const placementQueue = new MemoryQueue<PlacementMessage>('placement');
  let decisions: DynamoDecisionStore;
  let syncState: SyncStateStore;
  let recovery: DynamoRecoveryStore;
  let inventory: DynamoClusterInventory;
  let placement: PlacementDeps;
  let sweepDeps: RecoverySweepDeps;

  beforeAll(async () => {
    world = await startSyncWorld();
    const { doc, tableName } = world;
    decisions = new DynamoDecisionStore(doc, tableName);
    syncState = world.syncState;
    recovery = new DynamoRecoveryStore(doc, tableName);
    inventory = new DynamoClusterInventory(doc, tableName);
    for (const name of CLUSTERS) await inventory.putMirror(mirror(name));
    const log = memoryLog();
    const now = (): number => clock.now;
    const contentKey = async (): Promise<Buffer> => Buffer.from('vanished-sweep-content-key-0123456789');
    placement = {
      kube: fakeConnector(kcp),
      decisions,
      inventory,
      policies: makePolicySource(fakeConnector(kcp), log, { ttlMs: 0 }),
      syncQueue: sync,
      placementQueue,
      log,
      metrics: noMetrics,
      now,
      rereadDelaysMs: [],
      deletionGuard: new DeletionGuard({ store: recovery, metrics: noMetrics, log, now }),
      copies: syncState,
      contentKey,
    };
    sweepDeps = {
      workspaces: [WS],
      inventory,
      syncState,
      decisions,
      statuses: new DynamoStatusStore({ doc, tableName }),
      store: recovery,
      guard: new DeletionGuard({ store: recovery, metrics: noMetrics, log, now }),
      kube: fakeConnector(kcp),
      contentKey,
      placementQueue,
      syncQueue: sync,
      deadLetters: [],
      metrics: noMetrics,
      log,
      now,
      settings: DEFAULT_RECOVERY_SETTINGS,
    };
    // Objects that stay in kcp, placed and applied everywhere: the lists are not empty, and their pairs are settled.
    for (const name of ['live-0', 'live-1', 'live-2']) await placedObject(name, true);
  });
  afterAll(async () => {
    await world?.close();
  });

  /** A ConfigMap in kcp with a decision placing it on the three clusters (and, if `applied`, a copy on each). */
  async function placedObject(name: string, applied: boolean): Promise<void> {
    const object = kcp.put('', 'configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'default', generation: 1 },
      data: { k: name },
    });
    await decisions.put({
      ref: { ...cmRef(name), uid: object.metadata.uid },
      decisionVersion: 1,
      generation: 1,
      uid: object.metadata.uid,
      contentHash: contentHash(object),
      clusters: CLUSTERS.map((c) => ({ name: c })),
      scheduled: true,
      reason: 'Scheduled',
      message: 'placed on three clusters',
      explanation: [],
      explanationOmitted: 0,
      weights: {},
      diff: { added: CLUSTERS, removed: [], changed: [], unchanged: [] },
      decidedAt: new Date(clock.now - 10 * MINUTE).toISOString(),
    });
    if (applied) for (const cluster of CLUSTERS) await copyOn(name, cluster);
  }

  async function copyOn(name: string, cluster: string): Promise<void> {
    await syncState.put({
      ref: { ...cmRef(name), uid: `uid-${name}` },
      cluster,
      state: 'applied',
      decisionVersion: 1,
      appliedGeneration: 1,
      updatedAt: new Date(clock.now - 9 * MINUTE).toISOString(),
    });
  }

  /** A hold on placement's deletions of vanished objects, as its burst rule raises one. */
  async function holdVanished(scope: string): Promise<void> {
    await recovery.putHold({
      scope,
      reason: 'ConfigMaps of the workspace vanished from kcp at once',
      planned: 9,
      total: 9,
      raisedAt: new Date(clock.now).toISOString(),
      refs: [],
    });
  }

  /** One sweep's per-workspace passes (lost admissions, then lost sync messages), a minute after the last. */
  async function sweep(): Promise<RecoverySweepReport> {
    clock.now += MINUTE;
    const report: RecoverySweepReport = { actions: {}, failures: [] };
    for (const [what, pass] of [
      ['unplaced', () => resyncUnplaced(sweepDeps, report, WS)],
      ['unsynced', async () => resyncUnsynced(sweepDeps, report, WS, await inventory.list(WS))],
    ] as const) {
      try {
        await pass();
      } catch (err) {
        report.failures.push(`${what}: ${String(err)}`);
      }
    }
    return report;
  }

  /** Delivers the placement queue (and the retries placement asks for, after their delay) until it is empty. */
  async function deliverPlacement(): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const messages = placementQueue.drain();
      if (messages.length === 0) return;
      let delay = 0;
      for (const m of messages) {
        const outcome = await reconcilePlacement(placement, m);
        if (outcome.result === 'pending') {
          delay = Math.max(delay, outcome.delaySeconds ?? 0);
          placementQueue.sent.push(m);
        }
      }
      clock.now += delay * 1000;
    }
  }

  const syncFor = (name: string): string[] =>
    sync
      .drain()
      .filter((m) => m.ref.name === name)
      .map((m) => `${m.action}:${m.cluster}`)
      .sort();

  it('un-places an object deleted in kcp with no copy anywhere, and the sync messages for it stop', async () => {
    await placedObject('gone', false);
    kcp.remove('', 'configmaps', 'default', 'gone'); // its DELETE admission was lost
    sync.drain();

    // First sweep: absent from the complete list and a GET, a first sighting; the applies are still re-sent.
    const first = await sweep();
    expect(first.failures).toEqual([]);
    expect(first.actions['vanished-absence:waiting']).toBe(1);
    expect(placementQueue.sent).toEqual([]);
    expect(syncFor('gone')).toEqual(CLUSTERS.map((c) => `apply:${c}`).sort());

    // Second sweep, a minute later: the absence is confirmed, placement is asked and removes it through its gate.
    const second = await sweep();
    expect(second.actions['resync-unplaced:enqueued']).toBe(1);
    expect(placementQueue.sent.map((m) => [m.reason, m.ref.name])).toEqual([['resync', 'gone']]);
    await deliverPlacement();
    expect(await decisions.get(cmRef('gone'))).toMatchObject({ reason: 'Deleted', clusters: [] });
    // Its applies of the second sweep, then one delete per cluster (no copy there: sync-apply's delete is a no-op).
    expect(syncFor('gone')).toEqual(
      [...CLUSTERS.map((c) => `apply:${c}`), ...CLUSTERS.map((c) => `delete:${c}`)].sort(),
    );

    // The storm is gone: further sweeps, past every grace period, send nothing about it.
    for (let i = 0; i < 5; i++) {
      const report = await sweep();
      expect(report.failures).toEqual([]);
      expect(report.actions).toEqual({});
    }
    clock.now += 10 * MINUTE;
    await sweep();
    expect(syncFor('gone')).toEqual([]);
    expect(placementQueue.sent).toEqual([]);
  });

  it('un-places nothing while kcp’s list fails, answers empty, or leaves out objects it has', async () => {
    await placedObject('kept', false);
    sync.drain();
    for (const fault of ['fail', 'empty', 'partial'] as const) {
      kcp.fault = fault;
      kcp.omit = new Set(['kept', 'live-0']);
      for (let i = 0; i < 3; i++) {
        const report = await sweep();
        if (fault === 'fail') expect(report.failures.join()).toContain('unable to handle');
        expect(report.actions['vanished-absence:waiting']).toBeUndefined();
        expect(report.actions['resync-unplaced:enqueued']).toBeUndefined();
        await deliverPlacement();
      }
    }
    kcp.fault = 'none';
    for (const name of ['kept', 'live-0'])
      expect(await decisions.get(cmRef(name))).toMatchObject({
        reason: 'Scheduled',
        clusters: CLUSTERS.map((c) => ({ name: c })),
      });
    expect(sync.drain().filter((m) => m.action === 'delete')).toEqual([]);

    // A partial list and one 404 GET (a blip) are a first sighting only: the object is back on the next read.
    kcp.fault = 'partial';
    const held = (await kcp.get({ ...CM, namespace: 'default', name: 'kept' }))!;
    kcp.remove('', 'configmaps', 'default', 'kept');
    expect((await sweep()).actions['vanished-absence:waiting']).toBe(1);
    kcp.put('', 'configmaps', held);
    expect((await sweep()).actions['vanished-absence:waiting']).toBeUndefined();
    kcp.remove('', 'configmaps', 'default', 'kept');
    // Gone again: the earlier sighting was cleared by the read that found it, so this is a first sighting again.
    expect((await sweep()).actions['vanished-absence:waiting']).toBe(1);
    expect(placementQueue.sent).toEqual([]);
    expect(await decisions.get(cmRef('kept'))).toMatchObject({ reason: 'Scheduled' });
    kcp.put('', 'configmaps', held);
    kcp.fault = 'none';
    await sweep();
    sync.drain();
  });

  it('removes a copy that does exist only through the gate', async () => {
    await placedObject('copied', false);
    await copyOn('copied', 'east');
    kcp.remove('', 'configmaps', 'default', 'copied');
    // Deletions of ConfigMaps in the workspace are held (kcp's answers are in doubt): no sighting, no removal.
    const scope = vanishedScope(WS, CM);
    await holdVanished(scope);
    for (let i = 0; i < 3; i++) {
      const report = await sweep();
      expect(report.actions['vanished-absence:waiting']).toBeUndefined();
      expect(report.actions['resync-unplaced:enqueued']).toBeUndefined();
    }
    expect(sync.drain().filter((m) => m.action === 'delete')).toEqual([]);
    expect(await decisions.get(cmRef('copied'))).toMatchObject({ reason: 'Scheduled' });

    // Confirmed by a person: the sweep confirms the absence, and placement's gate lets the delete of the copy go.
    await confirmDeletions(recovery, scope, 'test', clock.now, DEFAULT_GUARD);
    await sweep();
    await sweep();
    expect(placementQueue.sent.map((m) => m.ref.name)).toEqual(['copied']);
    sync.drain();
    await deliverPlacement();
    expect(await decisions.get(cmRef('copied'))).toMatchObject({ reason: 'Deleted', clusters: [] });
    expect(syncFor('copied')).toEqual(CLUSTERS.map((c) => `delete:${c}`).sort());
  });

  it('backs off the applies of a vanished object while its removal is held', async () => {
    await placedObject('waiting', false);
    kcp.remove('', 'configmaps', 'default', 'waiting');
    const scope = vanishedScope(WS, CM);
    await recovery.clearHold(scope);
    await holdVanished(scope);
    sync.drain();
    // The longest delays the backoff may draw: its first re-sends 60, 120, 240, 480 and 960 s apart.
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.999);
    try {
      for (let i = 0; i < 30; i++) expect((await sweep()).failures).toEqual([]);
    } finally {
      random.mockRestore();
    }
    // 30 sweeps a minute apart: 5 applies per cluster instead of 30.
    expect(syncFor('waiting')).toEqual(CLUSTERS.flatMap((c) => Array<string>(5).fill(`apply:${c}`)).sort());
    expect(await decisions.get(cmRef('waiting'))).toMatchObject({ reason: 'Scheduled' });
  });
});
