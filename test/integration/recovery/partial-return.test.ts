import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoHealthStore } from '../../../lib/adapters/dynamodb/health-store';
import { DynamoRecoveryStore } from '../../../lib/adapters/dynamodb/recovery-store';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import { DynamoSyncStateStore } from '../../../lib/adapters/dynamodb/sync-state-store';
import type { PlacementMessage, SyncMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { ClusterHealth, HealthState } from '../../../lib/health/cluster-health';
import { ensureTable, startLocalDynamo } from '../../../lib/local/aws-services';
import { makePolicySource } from '../../../lib/placement/policy-source';
import { reconcilePlacement, type PlacementDeps } from '../../../lib/placement/reconcile';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { noMetrics } from '../../../lib/ports/telemetry';
import { DeletionGuard } from '../../../lib/recovery/deletion-guard';
import {
  DEFAULT_RECOVERY_SETTINGS,
  type RecoverySweepDeps,
  type RecoverySweepReport,
} from '../../../lib/recovery/deps';
import { resyncPartial, RETURN_SETTLE_MS } from '../../../lib/recovery/partial';
import { memoryLog } from '../../../lib/observability/log';
import * as build from '../../support/builders';
import { fakeConnector, FakeKcp, MemoryQueue } from '../placement/fake-kcp';

const WS = 'root:partial';
const cmRef = (name: string): ObjectRef => build.ref(WS, build.TYPES.configmaps, name);
const stRef = (name: string): ObjectRef => build.ref(WS, build.TYPES.synctargets, name);
const msg = build.placementMessage;

function syncTarget(name: string): KubeObject {
  return {
    apiVersion: 'workload.kcp.io/v1alpha1',
    kind: 'SyncTarget',
    metadata: { name, labels: {} },
    spec: {
      workloadCluster: {
        name,
        endpoint: `https://${name}.example:6443`,
        credentials: { secretRef: { namespace: 'tmc', name } },
      },
    },
  };
}

/**
 * Issue 14's partition finding: objects decided while `east` was out stay PartiallyScheduled after it returns when
 * the health probe's one-shot re-ask does not reach them. The recovery sweep re-asks every partial decision made
 * before the return, a page at a time, and once the rotation is done an idle sweep asks nothing and reads no decision.
 */
describe('recovery sweep: partial decisions after a cluster returns', () => {
  let stop: () => Promise<void>;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;

  beforeAll(async () => {
    const dynamo = await startLocalDynamo();
    stop = dynamo.stop;
    client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    await ensureTable(client, 'partial');
  });
  afterAll(async () => {
    client.destroy();
    await stop();
  });

  it('brings every object decided during an outage to its full decision although the return re-ask was lost, and an idle sweep asks nothing', async () => {
    const table = 'partial';
    const clock = { now: Date.parse('2026-01-01T12:00:00Z') };
    const log = memoryLog();
    const kcp = new FakeKcp();
    const health = new DynamoHealthStore(doc, table);
    const recovery = new DynamoRecoveryStore(doc, table);
    const decisions = new DynamoDecisionStore(doc, table);
    const inventory = new DynamoClusterInventory(doc, table);
    const sync = new MemoryQueue<SyncMessage>('sync');
    const placementQueue = new MemoryQueue<PlacementMessage>('placement');
    const versions = new Map<string, number>();
    const setHealth = async (cluster: string, state: HealthState): Promise<void> => {
      const version = (versions.get(cluster) ?? 0) + 1;
      const record: ClusterHealth = {
        cluster,
        workspace: WS,
        state,
        since: new Date(clock.now).toISOString(),
        reason: state,
        consecutiveFailures: 0,
        consecutiveSuccesses: 0,
        history: [],
        version,
      };
      expect(await health.putCluster(record, version - 1)).toBe(true);
      versions.set(cluster, version);
    };
    const placement: PlacementDeps = {
      kube: fakeConnector(kcp),
      decisions,
      inventory,
      policies: makePolicySource(fakeConnector(kcp), log, { ttlMs: 0 }),
      syncQueue: sync,
      placementQueue,
      log,
      metrics: noMetrics,
      now: () => clock.now,
      rereadDelaysMs: [],
      contentKey: async () => Buffer.from('partial-test-content-key-0123456789'),
    };
    let pagesRead = 0;
    const sweepDecisions: RecoverySweepDeps['decisions'] = {
      get: (ref) => decisions.get(ref),
      getMany: (refs) => decisions.getMany(refs),
      put: (d) => decisions.put(d),
      listByWorkspace: (ws, o) => decisions.listByWorkspace(ws, o),
      listVersions: (ws, o) => {
        pagesRead += 1;
        return decisions.listVersions(ws, o);
      },
    };
    const sweepDeps = (limit: number): RecoverySweepDeps => ({
      workspaces: [WS],
      inventory,
      syncState: new DynamoSyncStateStore({ doc, tableName: table }),
      decisions: sweepDecisions,
      statuses: new DynamoStatusStore({ doc, tableName: table }),
      store: recovery,
      guard: new DeletionGuard({ store: recovery, metrics: noMetrics, log, now: () => clock.now }),
      kube: fakeConnector(kcp),
      contentKey: async () => Buffer.from('partial-test-content-key-0123456789'),
      placementQueue,
      syncQueue: sync,
      deadLetters: [],
      metrics: noMetrics,
      log,
      now: () => clock.now,
      settings: { ...DEFAULT_RECOVERY_SETTINGS, partialDecisionLimit: limit },
    });
    const sweep = async (limit = 4): Promise<PlacementMessage[]> => {
      const report: RecoverySweepReport = { actions: {}, failures: [] };
      await resyncPartial(sweepDeps(limit), report, WS, await inventory.list(WS));
      return placementQueue.drain();
    };
    const deliver = async (messages: PlacementMessage[]): Promise<void> => {
      for (const m of messages) await reconcilePlacement(placement, m);
      placementQueue.drain(); // placement's own follow-ups (the namespace moved: its objects again)
    };

    // Two clusters, a Placement that wants both; east has been out for a while.
    await setHealth('east', 'Healthy');
    await setHealth('west', 'Healthy');
    kcp.put('', 'namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'default', labels: { team: 'a' } },
    });
    for (const name of ['east', 'west']) {
      kcp.put('workload.kcp.io', 'synctargets', syncTarget(name));
      await reconcilePlacement(placement, msg(stRef(name), 'cluster-change'));
    }
    kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'both' },
      spec: { namespaceSelector: { matchLabels: { team: 'a' } }, numberOfClusters: 2 },
    });
    clock.now += 60_000;
    await setHealth('east', 'Unhealthy');
    clock.now += 60_000;

    // Objects created during the outage are placed on west only.
    const names = Array.from({ length: 6 }, (_, i) => `cfg-${i}`);
    for (const name of names) {
      kcp.put('', 'configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'default' },
        data: { k: name },
      });
      await reconcilePlacement(placement, msg(cmRef(name), 'event'));
    }
    for (const name of names)
      expect(await decisions.get(cmRef(name))).toMatchObject({
        reason: 'PartiallyScheduled',
        clusters: [{ name: 'west' }],
      });
    sync.drain();
    placementQueue.drain();
    // The first sweeps check every decision once against west's (first) return: none was made before it.
    expect([...(await sweep()), ...(await sweep())]).toEqual([]);
    const idleBefore = pagesRead;
    expect(await sweep()).toEqual([]);
    expect(pagesRead).toBe(idleBefore);

    // East returns. The health probe's re-ask of these objects is lost (never delivered): only the sweep is left.
    clock.now += 30_000;
    await setHealth('east', 'Healthy');
    clock.now += RETURN_SETTLE_MS - 1;
    expect(await sweep()).toEqual([]); // a return this fresh is left to the next sweep
    expect(pagesRead).toBe(idleBefore);
    clock.now += 1;

    // Pages of 4 decisions (the namespace's and six ConfigMaps', all partial): two sweeps re-ask all seven, each once.
    const first = await sweep();
    const second = await sweep();
    expect([...first, ...second].map((m) => [m.reason, m.ref.name]).sort()).toEqual(
      [...names, 'default'].map((n) => ['cluster-change', n]),
    );
    expect(first.length).toBeGreaterThan(0);
    expect(second.length).toBeGreaterThan(0);
    await deliver([...first, ...second]);
    for (const name of names)
      expect(await decisions.get(cmRef(name))).toMatchObject({
        reason: 'Scheduled',
        clusters: [{ name: 'east' }, { name: 'west' }],
      });
    expect(
      sync
        .drain()
        .map((m) => `${m.action}:${m.cluster}:${m.ref.name}`)
        .sort(),
    ).toEqual(names.map((n) => `apply:east:${n}`));

    // Idle: the return has been handled; sweeps send nothing and read no decision page.
    const pagesAfter = pagesRead;
    for (let i = 0; i < 3; i++) {
      clock.now += 60_000;
      expect(await sweep()).toEqual([]);
    }
    expect(pagesRead).toBe(pagesAfter);
  });
});
