import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { SYNC_FINALIZER } from '../../../lib/api/labels';
import type { PlacementMessage, SyncMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { ensureTable, startLocalDynamo } from '../../../lib/local/aws-services';
import { makePolicySource } from '../../../lib/placement/policy-source';
import { reconcilePlacement, type PlacementDeps } from '../../../lib/placement/reconcile';
import type { ClusterInventory } from '../../../lib/ports/cluster-inventory';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { noMetrics } from '../../../lib/ports/telemetry';
import { memoryLog } from '../../../lib/sync/sync-log';
import { fakeConnector, FakeKcp, MemoryQueue } from './fake-kcp';

/**
 * Placement converges whatever happens between its decision write and its sync messages (issue 14): a redelivered
 * message resends removals as well as applies, a failover with nowhere to go keeps the copy, and a user's update
 * racing tmc's own status write is not taken for "nothing changed".
 */
const WS = 'root:converge';
const NOW = Date.parse('2026-01-01T00:00:00Z');
const trace = { traceId: 't-1', enqueuedAt: new Date(0).toISOString() };
const depRef = (name: string): ObjectRef => ({ workspace: WS, group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'default', name });
const stRef = (name: string): ObjectRef => ({ workspace: WS, group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets', kind: 'SyncTarget', name });
const msg = (ref: ObjectRef, reason: PlacementMessage['reason'] = 'event', extra: Partial<PlacementMessage> = {}): PlacementMessage => ({ type: 'placement', ref, reason, trace, ...extra });
const summary = (messages: SyncMessage[]): string[] => messages.map((m) => `${m.action}:${m.cluster}`).sort();

function syncTarget(name: string, region: string): KubeObject {
  return {
    apiVersion: 'workload.kcp.io/v1alpha1',
    kind: 'SyncTarget',
    metadata: { name, labels: { 'topology.kubernetes.io/region': region } },
    spec: { workloadCluster: { name, endpoint: `https://${name}.example:6443`, credentials: { secretRef: { namespace: 'tmc', name } } } },
  };
}

function deployment(name: string, generation = 1, replicas = 2, metadata: Partial<KubeObject['metadata']> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', generation, finalizers: [SYNC_FINALIZER], ...metadata },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
  };
}

/** A sync queue whose next `failures` sends throw, as SQS does when it is down or the process dies mid-send. */
class FlakyQueue extends MemoryQueue<SyncMessage> {
  failures = 0;
  override async send(messages: SyncMessage[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('SQS is down');
    }
    await super.send(messages);
  }
}

let stopDynamo: () => Promise<void>;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let seq = 0;

beforeAll(async () => {
  const dynamo = await startLocalDynamo();
  stopDynamo = dynamo.stop;
  client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(async () => {
  client.destroy();
  await stopDynamo();
});

interface World {
  kcp: FakeKcp;
  deps: PlacementDeps;
  sync: FlakyQueue;
  placement: MemoryQueue<PlacementMessage>;
  decisions: DynamoDecisionStore;
}

async function world(...clusters: Array<[string, string]>): Promise<World> {
  const tableName = `converge-${++seq}`;
  await ensureTable(client, tableName);
  const kcp = new FakeKcp();
  kcp.put('', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const sync = new FlakyQueue('sync');
  const placement = new MemoryQueue<PlacementMessage>('placement');
  const decisions = new DynamoDecisionStore(doc, tableName);
  const kube = fakeConnector(kcp);
  const log = memoryLog();
  const deps: PlacementDeps = {
    kube,
    decisions,
    inventory: new DynamoClusterInventory(doc, tableName),
    policies: makePolicySource(kube, log, { ttlMs: 0 }),
    syncQueue: sync,
    placementQueue: placement,
    log,
    metrics: noMetrics,
    now: () => NOW,
    rereadDelaysMs: [],
  };
  for (const [name, region] of clusters) {
    kcp.put('workload.kcp.io', 'synctargets', syncTarget(name, region));
    await reconcilePlacement(deps, msg(stRef(name), 'cluster-change'));
  }
  placement.drain();
  return { kcp, deps, sync, placement, decisions };
}

const labelsOf = async (w: World, name: string): Promise<KubeObject | undefined> => w.kcp.get({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name });

describe('a redelivered placement message after the sync send failed', () => {
  it('resends the deletes of a deleted object instead of releasing its finalizer with copies left', async () => {
    const w = await world(['east', 'us-east-1']);
    w.kcp.put('apps', 'deployments', deployment('web'));
    await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(summary(w.sync.drain())).toEqual(['apply:east']);

    // kubectl delete: kcp sets the deletionTimestamp and waits for tmc's finalizer.
    w.kcp.put('apps', 'deployments', deployment('web', 1, 2, { deletionTimestamp: '2026-01-01T00:00:00Z' }));
    w.sync.failures = 1;
    await expect(reconcilePlacement(w.deps, msg(depRef('web'), 'delete'), 1)).rejects.toThrow('SQS is down');
    expect((await w.decisions.get(depRef('web')))?.reason).toBe('Deleted');

    const retry = await reconcilePlacement(w.deps, msg(depRef('web'), 'delete'), 2);
    expect(retry).toMatchObject({ result: 'placed', messages: 1 });
    expect(summary(w.sync.drain())).toEqual(['delete:east']);
    // Only sync-apply, once east is clean, may let the delete complete.
    expect((await labelsOf(w, 'web'))?.metadata.finalizers).toEqual([SYNC_FINALIZER]);
  });

  it('resends the delete for the cluster an object moved away from, beside the applies', async () => {
    const w = await world(['east', 'us-east-1'], ['west', 'us-west-2']);
    w.kcp.put('scheduling.kcp.io', 'placements', { apiVersion: 'scheduling.kcp.io/v1alpha1', kind: 'Placement', metadata: { name: 'p' }, spec: { clusterConstraints: { regions: ['us-east-1'] } } });
    w.kcp.put('apps', 'deployments', deployment('web'));
    await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(summary(w.sync.drain())).toEqual(['apply:east']);

    w.kcp.put('scheduling.kcp.io', 'placements', { apiVersion: 'scheduling.kcp.io/v1alpha1', kind: 'Placement', metadata: { name: 'p' }, spec: { clusterConstraints: { regions: ['us-west-2'] } } });
    w.sync.failures = 1;
    await expect(reconcilePlacement(w.deps, msg(depRef('web'), 'placement-change'), 1)).rejects.toThrow('SQS is down');
    expect((await w.decisions.get(depRef('web')))?.clusters.map((c) => c.name)).toEqual(['west']);

    await reconcilePlacement(w.deps, msg(depRef('web'), 'placement-change'), 2);
    expect(summary(w.sync.drain())).toEqual(['apply:west', 'delete:east']);
  });

  it('a first delivery from the sweep (reason resync) resends too; an ordinary duplicate sends nothing', async () => {
    const w = await world(['east', 'us-east-1']);
    w.kcp.put('apps', 'deployments', deployment('web'));
    w.sync.failures = 1;
    await expect(reconcilePlacement(w.deps, msg(depRef('web')), 1)).rejects.toThrow('SQS is down');
    // (it still patches the state labels the failed attempt never reached)
    await expect(reconcilePlacement(w.deps, msg(depRef('web')), 1)).resolves.toMatchObject({ messages: 0 });
    await expect(reconcilePlacement(w.deps, msg(depRef('web'), 'resync'), 1)).resolves.toMatchObject({ messages: 1 });
    expect(summary(w.sync.drain())).toEqual(['apply:east']);
  });
});

describe('failover with nowhere to go', () => {
  /** The inventory as the engine sees it, with `east` Unhealthy since long before evictAfter. */
  function withUnhealthyEast(inventory: ClusterInventory): ClusterInventory {
    return new Proxy(inventory, {
      get(target, prop, receiver) {
        if (prop === 'list') {
          return async (workspace: string) => (await target.list(workspace)).map((c) => (c.name === 'east' ? { ...c, health: 'Unhealthy' as const, unhealthySince: NOW - 3_600_000 } : c));
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  it('keeps the workload where it runs, sends no delete, and says why in the decision', async () => {
    const w = await world(['east', 'us-east-1']);
    w.kcp.put('apps', 'deployments', deployment('web'));
    await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(summary(w.sync.drain())).toEqual(['apply:east']);

    const sick = { ...w.deps, inventory: withUnhealthyEast(w.deps.inventory) };
    await reconcilePlacement(sick, msg(depRef('web'), 'failover'));
    expect(w.sync.drain()).toEqual([]);
    const kept = await w.decisions.get(depRef('web'));
    expect(kept).toMatchObject({ scheduled: false, reason: 'Unschedulable', clusters: [{ name: 'east', replicas: 2 }] });
    expect(kept?.message).toMatch(/^No cluster to fail over to: kept on east until one fits\. 0\/1 clusters match/);
    // Asked again (the sweep's backoff), nothing changes and nothing is written.
    await expect(reconcilePlacement(sick, msg(depRef('web'), 'failover'))).resolves.toMatchObject({ result: 'unchanged', writes: 0, messages: 0 });

    // A healthy cluster appears: the next failover moves the workload there.
    w.kcp.put('workload.kcp.io', 'synctargets', syncTarget('west', 'us-west-2'));
    await reconcilePlacement(sick, msg(stRef('west'), 'cluster-change'));
    await reconcilePlacement(sick, msg(depRef('web'), 'failover'));
    expect((await w.decisions.get(depRef('web')))?.clusters.map((c) => c.name)).toEqual(['west']);
    expect(summary(w.sync.drain())).toEqual(['apply:west', 'delete:east']);
  });
});

describe("a user's update racing tmc's own status write", () => {
  it('waits for the admitted change instead of taking the status write for it, then syncs it', async () => {
    const w = await world(['east', 'us-east-1']);
    const stored = w.kcp.put('apps', 'deployments', deployment('web', 1, 2));
    await reconcilePlacement(w.deps, msg(depRef('web')));
    w.sync.drain();

    // The admission of `kubectl scale --replicas=5` (an UPDATE carrying the new object) reaches placement while kcp
    // still serves the old spec, but tmc's status write has already moved the resourceVersion past the request's.
    const scaled = deployment('web', 1, 5, { resourceVersion: stored.metadata.resourceVersion, uid: stored.metadata.uid });
    await w.kcp.patchStatus({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'web' }, { readyReplicas: 2 });
    const admission = msg(depRef('web'), 'admission', { resourceVersion: stored.metadata.resourceVersion, generation: 1, object: scaled });
    await expect(reconcilePlacement(w.deps, admission, 1)).resolves.toMatchObject({ result: 'pending' });
    expect(w.sync.drain()).toEqual([]);

    // The webhook's repeated call is deduplicated by ingress; the first message, retried, sees the stored change.
    w.kcp.put('apps', 'deployments', deployment('web', 2, 5, { uid: stored.metadata.uid }));
    await expect(reconcilePlacement(w.deps, admission, 2)).resolves.toMatchObject({ result: 'placed' });
    expect(summary(w.sync.drain())).toEqual(['apply:east']);
  });

  it('an admission whose change was refused later is taken as kcp has it after the retries', async () => {
    const w = await world(['east', 'us-east-1']);
    const stored = w.kcp.put('apps', 'deployments', deployment('web', 1, 2));
    await reconcilePlacement(w.deps, msg(depRef('web')));
    w.sync.drain();
    await w.kcp.patchStatus({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'web' }, { readyReplicas: 2 });
    const admission = msg(depRef('web'), 'admission', { resourceVersion: stored.metadata.resourceVersion, generation: 1, object: deployment('web', 1, 9) });
    const before = await w.decisions.get(depRef('web'));
    // Past the retries kcp is the truth: no new decision (a redelivery resends the idempotent applies).
    await expect(reconcilePlacement(w.deps, admission, 6)).resolves.toMatchObject({ writes: 0 });
    expect((await w.decisions.get(depRef('web')))?.decisionVersion).toBe(before?.decisionVersion);
  });
});

describe('status of an object no apply will follow', () => {
  it('is refreshed by placement when it is placed nowhere, and not for an ordinary placement', async () => {
    const w = await world(['east', 'us-east-1']);
    const refreshed: string[] = [];
    const deps: PlacementDeps = { ...w.deps, status: { refresh: async (ref) => void refreshed.push(ref.name) } };
    w.kcp.put('apps', 'deployments', deployment('web'));
    await reconcilePlacement(deps, msg(depRef('web')));
    expect(refreshed).toEqual([]); // sync-apply refreshes after its apply

    // A Placement that selects no namespace here: no apply follows, so placement writes the reason to status itself.
    w.kcp.put('scheduling.kcp.io', 'placements', { apiVersion: 'scheduling.kcp.io/v1alpha1', kind: 'Placement', metadata: { name: 'elsewhere' }, spec: { namespaceSelector: { matchLabels: { team: 'b' } } } });
    await reconcilePlacement(deps, msg(depRef('web'), 'placement-change'));
    expect((await w.decisions.get(depRef('web')))?.reason).toBe('NoMatchingPlacement');
    expect(refreshed).toEqual(['web']);
    await reconcilePlacement(deps, msg(depRef('web'), 'placement-change'));
    expect(refreshed).toEqual(['web']); // unchanged: nothing to say again
  });
});
