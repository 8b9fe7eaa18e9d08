import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { objPk } from '../../../lib/adapters/dynamodb/keys';
import { DynamoSyncStateStore } from '../../../lib/adapters/dynamodb/sync-state-store';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import { CONDITIONS_ANNOTATION, STATE_LABEL_PREFIX, stateLabel, SYNC_FINALIZER } from '../../../lib/api/labels';
import type { PlacementMessage, SyncMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { ClusterThrottledError, NotFoundError, StaleGenerationError } from '../../../lib/errors/tmc-error';
import { placementFingerprint } from '../../../lib/ingress/fingerprint';
import { ensureTable, startLocalDynamo } from '../../../lib/local/aws-services';
import { makePolicySource } from '../../../lib/placement/policy-source';
import {
  NOT_YET_STORED_RETRIES,
  reconcilePlacement,
  VANISHED_RECHECK_SECONDS,
  type PlacementDeps,
} from '../../../lib/placement/reconcile';
import { DynamoRecoveryStore } from '../../../lib/adapters/dynamodb/recovery-store';
import { DeletionGuard } from '../../../lib/recovery/deletion-guard';
import type { EventRecorder, ObjectEvent } from '../../../lib/ports/event-recorder';
import type { ClusterInventory } from '../../../lib/ports/cluster-inventory';
import type { StoredDecision } from '../../../lib/ports/decision-store';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { noMetrics } from '../../../lib/ports/telemetry';
import { makePlacementHandler, PLACEMENT_RETRY } from '../../../lib/runtime/placement';
import { QUEUES } from '../../../lib/runtime/resources';
import { memoryLog } from '../../../lib/observability/log';
import { formatExplanation } from '../../../lib/placement/explain-format';
import { itemSize } from '../../../bench/support/item-size';
import { makeStatusReporter } from '../../../lib/sync/status/report-status';
import * as build from '../../support/builders';
import { loadEvent } from '../../support/events';
import { fakeConnector, FakeKcp, MemoryQueue } from './fake-kcp';

const WS = 'root:test';
const depRef = (name: string): ObjectRef => build.ref(WS, build.TYPES.deployments, name);
const stRef = (name: string): ObjectRef => build.ref(WS, build.TYPES.synctargets, name);
const plRef = (name: string): ObjectRef => build.ref(WS, build.TYPES.placements, name);
const msg = build.placementMessage;
const syncTarget = (name: string, region: string, spec: Record<string, unknown> = {}): Record<string, unknown> =>
  build.syncTarget(name, {
    labels: { 'topology.kubernetes.io/region': region },
    endpoint: `https://${name}.example:6443`,
    spec,
  });
const deploymentObj = (name: string, generation = 1, replicas = 2): Record<string, unknown> =>
  build.deployment(name, { replicas, metadata: { generation } });

let stopDynamo: () => Promise<void>;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tableSeq = 0;

beforeAll(async () => {
  const dynamo = await startLocalDynamo();
  stopDynamo = dynamo.stop;
  client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(async () => {
  client.destroy();
  await stopDynamo();
});

interface World {
  kcp: FakeKcp;
  deps: PlacementDeps;
  sync: MemoryQueue<SyncMessage>;
  placement: MemoryQueue<PlacementMessage>;
  decisions: DynamoDecisionStore;
  tableName: string;
}

async function world(): Promise<World> {
  const tableName = `placement-${++tableSeq}`;
  await ensureTable(client, tableName);
  const kcp = new FakeKcp();
  kcp.put('', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const sync = new MemoryQueue<SyncMessage>('sync');
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
    now: () => Date.parse('2025-01-01T00:00:00Z'),
    contentKey: async () => Buffer.from('reconcile-test-content-key-0123456789'),
  };
  return { kcp, deps, sync, placement, decisions, tableName };
}

/** The names of the DynamoDB commands sent while `run` runs, in order. */
async function commandsDuring(run: (commands: string[]) => Promise<void>): Promise<string[]> {
  const commands: string[] = [];
  const name = 'countCommands';
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    await run(commands);
  } finally {
    client.middlewareStack.remove(name);
  }
  return commands;
}

async function itemCount(tableName: string): Promise<number> {
  return (await doc.send(new ScanCommand({ TableName: tableName }))).Items?.length ?? 0;
}

async function registerClusters(w: World, ...targets: Array<Record<string, unknown>>): Promise<void> {
  for (const t of targets) {
    w.kcp.put('workload.kcp.io', 'synctargets', t as never);
    await reconcilePlacement(w.deps, msg(stRef((t.metadata as { name: string }).name), 'cluster-change'));
  }
  w.placement.drain();
}

describe('DynamoDecisionStore conditional writes', () => {
  const base = (version: number, rv: string): StoredDecision => ({
    ref: depRef('web'),
    decisionVersion: version,
    generation: 1,
    resourceVersion: rv,
    contentHash: 'h',
    clusters: [{ name: 'east', replicas: 2 }],
    scheduled: true,
    reason: 'Scheduled',
    message: 'ok',
    explanation: [],
    explanationOmitted: 0,
    weights: {},
    diff: { added: ['east'], removed: [], changed: [], unchanged: [] },
    decidedAt: new Date(0).toISOString(),
  });

  it('writes version n+1 over n, refuses a duplicate or a step back', async () => {
    const w = await world();
    await w.decisions.put(base(1, '10'));
    await expect(w.decisions.put(base(1, '10'))).rejects.toBeInstanceOf(StaleGenerationError);
    await w.decisions.put(base(2, '12'));
    await expect(w.decisions.put(base(2, '12'))).rejects.toBeInstanceOf(StaleGenerationError);
    await expect(w.decisions.put(base(3, '11'))).rejects.toBeInstanceOf(StaleGenerationError); // saw an older object
    await expect(w.decisions.get(depRef('web'))).resolves.toMatchObject({ decisionVersion: 2, resourceVersion: '12' });
    const page = await w.decisions.listByWorkspace(WS);
    expect(page.decisions.map((d) => d.ref.name)).toEqual(['web']);
  });
});

describe('reconcilePlacement on dynalite', () => {
  it('places, then does nothing for the same message, then applies a spec change everywhere', async () => {
    const w = await world();
    await registerClusters(
      w,
      syncTarget('east', 'us-east-1'),
      syncTarget('west', 'us-west-2'),
      syncTarget('eu', 'eu-west-1'),
    );
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'all' },
      spec: { clusterConstraints: { regions: ['us-east-1', 'us-west-2'] } },
    });
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);

    const first = await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(first).toMatchObject({ result: 'placed', messages: 2 });
    const sent = w.sync.drain();
    expect(sent.map((m) => `${m.action}:${m.cluster}`).sort()).toEqual(['apply:east', 'apply:west']);
    expect(sent.every((m) => m.decisionVersion === 1)).toBe(true);
    // Only the namespace's state labels (it is placed first, and never synced on its own): a first decision's apply
    // everywhere is followed by the object's first status refresh, which writes its labels with the per-cluster detail.
    expect(w.kcp.calls.mergePatch).toBe(1);
    const nsLabels = (await w.kcp.get({ group: '', version: 'v1', resource: 'namespaces', name: 'default' }))!.metadata
      .labels!;
    expect(nsLabels[stateLabel(WS, 'east')]).toBe('Sync');
    const webRef = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'web' };
    expect((await w.kcp.get(webRef))!.metadata.labels?.[stateLabel(WS, 'east')]).toBeUndefined();
    // Asked again before that refresh (a resync): placement writes the labels itself, and only once.
    const relabelled = await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(relabelled).toMatchObject({ writes: 1, messages: 0 });
    expect(w.kcp.calls.mergePatch).toBe(2);
    const labels = (await w.kcp.get(webRef))!.metadata.labels!;
    expect(labels[stateLabel(WS, 'east')]).toBe('Sync');
    expect(labels[stateLabel(WS, 'eu')]).toBeUndefined();

    const items = await itemCount(w.tableName);
    const again = await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(again).toMatchObject({ result: 'unchanged', writes: 0, messages: 0 });
    expect(w.sync.sent).toHaveLength(0);
    expect(w.kcp.calls.mergePatch).toBe(2);
    expect(await itemCount(w.tableName)).toBe(items);

    w.kcp.put('apps', 'deployments', {
      ...deploymentObj('web', 2, 5),
      metadata: { ...(deploymentObj('web').metadata as object), generation: 2, labels },
    } as never);
    const changed = await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(changed).toMatchObject({ result: 'placed', writes: 1, messages: 2 });
    expect(
      w.sync
        .drain()
        .map((m) => `${m.action}:${m.cluster}:${m.decisionVersion}`)
        .sort(),
    ).toEqual(['apply:east:2', 'apply:west:2']);
    // The decision names the change and the work it sent: `tmc trace`'s placed step, with no write of its own.
    const decided = await w.decisions.get(depRef('web'));
    expect(decided?.traceId).toBe(msg(depRef('web')).trace.traceId);
    expect(decided?.sent?.split(', ').sort()).toEqual(['apply east', 'apply west']);
    // …and when and how the change arrived (`received`, which ingress no longer writes for a workload), and the
    // version it was made from, against which ingress deduplicates the object's watch events.
    expect(decided).toMatchObject({
      receivedAt: msg(depRef('web')).trace.enqueuedAt,
      receivedReason: msg(depRef('web')).reason,
    });
    const stored = await w.kcp.get({
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      namespace: 'default',
      name: 'web',
    });
    expect(decided?.fingerprint).toBe(placementFingerprint(stored!, false));
  });

  it('a cordoned cluster keeps its work and gets no new work', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'), syncTarget('west', 'us-west-2'));
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'one' },
      spec: { numberOfClusters: 1 },
    });
    w.kcp.put('apps', 'deployments', deploymentObj('old') as never);
    await reconcilePlacement(w.deps, msg(depRef('old')));
    const home = w.sync.drain()[0].cluster;
    const other = home === 'east' ? 'west' : 'east';

    w.kcp.put(
      'workload.kcp.io',
      'synctargets',
      syncTarget(home, home === 'east' ? 'us-east-1' : 'us-west-2', { unschedulable: true }) as never,
    );
    await reconcilePlacement(w.deps, msg(stRef(home), 'cluster-change'));
    // What runs on the cordoned cluster is re-evaluated (placement messages) but stays there.
    for (const m of w.placement.drain()) await reconcilePlacement(w.deps, m);
    expect((await w.decisions.get(depRef('old')))!.clusters.map((c) => c.name)).toEqual([home]);

    // New work is a new namespace: it avoids the cordoned cluster.
    for (const name of ['new-1', 'new-2', 'new-3']) {
      w.kcp.put('', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      w.kcp.put('apps', 'deployments', {
        ...deploymentObj(name),
        metadata: { ...(deploymentObj(name).metadata as object), namespace: name },
      } as never);
      const ref = { ...depRef(name), namespace: name };
      await reconcilePlacement(w.deps, msg(ref));
      expect((await w.decisions.get(ref))!.clusters.map((c) => c.name)).toEqual([other]);
    }
    // A new object in a namespace placed there before the cordon follows its namespace (kcp TMC: namespaces are scheduled).
    w.kcp.put('apps', 'deployments', deploymentObj('sibling') as never);
    await reconcilePlacement(w.deps, msg(depRef('sibling')));
    expect((await w.decisions.get(depRef('sibling')))!.clusters.map((c) => c.name)).toEqual([home]);
  });

  it('objects follow their namespace: a SyncTarget change re-places both together, never apart', async () => {
    const w = await world();
    await registerClusters(
      w,
      syncTarget('east', 'us-east-1'),
      syncTarget('west', 'us-west-2'),
      syncTarget('eu', 'eu-west-1'),
    );
    // The default placement: one cluster per namespace.
    for (const name of ['a', 'b', 'c']) {
      w.kcp.put('apps', 'deployments', deploymentObj(name) as never);
      await reconcilePlacement(w.deps, msg(depRef(name)));
    }
    const nsRef = {
      workspace: WS,
      group: '',
      version: 'v1',
      resource: 'namespaces',
      kind: 'Namespace',
      name: 'default',
    };
    const home = (await w.decisions.get(nsRef))!.clusters.map((c) => c.name);
    expect(home).toHaveLength(1);
    for (const name of ['a', 'b', 'c'])
      expect((await w.decisions.get(depRef(name)))!.clusters.map((c) => c.name)).toEqual(home);
    // Namespaces are never synced on their own: only the three Deployments were sent.
    expect(w.sync.drain().map((m) => `${m.ref.kind}:${m.cluster}`)).toEqual(
      ['Deployment', 'Deployment', 'Deployment'].map((k) => `${k}:${home[0]}`),
    );

    // A restart re-registers the cluster with a new endpoint: what runs there is re-placed, the Namespace included, in
    // any order, and all of it stays.
    const region: Record<string, string> = { east: 'us-east-1', west: 'us-west-2', eu: 'eu-west-1' };
    const moved0 = syncTarget(home[0], region[home[0]]);
    w.kcp.put('workload.kcp.io', 'synctargets', {
      ...moved0,
      spec: {
        workloadCluster: {
          name: home[0],
          endpoint: 'https://127.0.0.1:40001',
          credentials: { secretRef: { namespace: 'tmc', name: home[0] } },
        },
      },
    } as never);
    await reconcilePlacement(w.deps, msg(stRef(home[0]), 'cluster-change'));
    for (const m of w.placement.drain().reverse()) await reconcilePlacement(w.deps, m);
    expect((await w.decisions.get(nsRef))!.clusters.map((c) => c.name)).toEqual(home);
    for (const name of ['a', 'b', 'c'])
      expect((await w.decisions.get(depRef(name)))!.clusters.map((c) => c.name)).toEqual(home);
    expect(w.sync.drain()).toEqual([]);

    // The namespace's cluster is deleted: re-placing only the objects (no sync items here for the drain to list)
    // moves the namespace first and every object with it.
    w.kcp.remove('workload.kcp.io', 'synctargets', undefined, home[0]);
    await reconcilePlacement(w.deps, msg(stRef(home[0]), 'cluster-change'));
    await reconcilePlacement(w.deps, msg(depRef('b'), 'cluster-change'));
    // The namespace moved: the other two are told to follow.
    expect(
      w.placement
        .drain()
        .map((m) => m.ref.name)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    for (const name of ['a', 'c']) await reconcilePlacement(w.deps, msg(depRef(name), 'cluster-change'));
    const moved = (await w.decisions.get(nsRef))!.clusters.map((c) => c.name);
    expect(moved).toHaveLength(1);
    expect(moved).not.toEqual(home);
    for (const name of ['a', 'b', 'c'])
      expect((await w.decisions.get(depRef(name)))!.clusters.map((c) => c.name)).toEqual(moved);
  });

  it('an unsatisfiable Placement records Scheduled=False and succeeds; the object goes nowhere', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'), syncTarget('west', 'us-west-2'));
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'eu-only', generation: 1 },
      spec: { clusterConstraints: { regions: ['eu-west-1'] } },
    });
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);

    const out = await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(out.result).toBe('placed');
    expect(w.sync.sent).toHaveLength(0);
    const d = await w.decisions.get(depRef('web'));
    expect(d).toMatchObject({ scheduled: false, reason: 'Unschedulable' });
    expect(d!.message).toMatch(/^0\/2 clusters match: 2 rejected by clusterConstraints\.regions=\[eu-west-1\]/);

    await reconcilePlacement(w.deps, msg(plRef('eu-only'), 'placement-change'));
    const placement = await w.kcp.get({
      group: 'scheduling.kcp.io',
      version: 'v1alpha1',
      resource: 'placements',
      name: 'eu-only',
    });
    expect(placement!.status).toMatchObject({
      phase: 'Unschedulable',
      conditions: [expect.objectContaining({ type: 'Scheduled', status: 'False', reason: 'Unschedulable' })],
    });
    const patches = w.kcp.calls.patchStatus;
    await reconcilePlacement(w.deps, msg(plRef('eu-only'), 'placement-change'));
    expect(w.kcp.calls.patchStatus).toBe(patches); // unchanged status: no write
    // The Deployment and its namespace (placed with it) are re-placed, each time the Placement changes.
    expect(
      w.placement
        .drain()
        .map((m) => m.ref.name)
        .sort(),
    ).toEqual(['default', 'default', 'web', 'web']);
  });

  it('a deleted object is removed from every cluster; a deleted SyncTarget drains', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);
    await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(w.sync.drain().map((m) => `${m.action}:${m.cluster}`)).toEqual(['apply:east']);

    w.kcp.remove('apps', 'deployments', 'default', 'web');
    await reconcilePlacement(w.deps, msg(depRef('web'), 'delete'));
    expect(w.sync.drain().map((m) => `${m.action}:${m.cluster}`)).toEqual(['delete:east']);
    await expect(w.decisions.get(depRef('web'))).resolves.toMatchObject({ reason: 'Deleted', sent: 'delete east' });
    await expect(reconcilePlacement(w.deps, msg(depRef('web'), 'delete'))).resolves.toMatchObject({
      result: 'absent',
      messages: 0,
    });
  });

  // A pending answer is a redelivery, and SQS counts each one towards the DLQ: the waits must end with deliveries to
  // spare, or a change kcp never stored (a create deleted at once, a namespace already gone) is dead-lettered.
  it('stops waiting for kcp before the queue would dead-letter the message', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    const { maxReceiveCount } = QUEUES.placement;
    const deliveriesUntilAnswered = async (message: PlacementMessage): Promise<number> => {
      for (let receive = 1; receive <= maxReceiveCount; receive++)
        if ((await reconcilePlacement(w.deps, message, receive)).result !== 'pending') return receive;
      return Infinity;
    };
    // CREATE admitted, never stored (or deleted before placement read it).
    expect(await deliveriesUntilAnswered(msg(depRef('never'), 'admission'))).toBeLessThan(maxReceiveCount);
    // DELETE admitted, refused by a later admission step: the object stays live.
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);
    expect(await deliveriesUntilAnswered(msg(depRef('web'), 'delete'))).toBeLessThan(maxReceiveCount);
    // Its namespace gone from kcp.
    const orphan = build.deployment('lost', { namespace: 'gone' });
    w.kcp.put('apps', 'deployments', orphan as never);
    expect(
      await deliveriesUntilAnswered(msg(build.ref(WS, build.TYPES.deployments, 'lost', 'gone'), 'event')),
    ).toBeLessThan(maxReceiveCount);
  });

  it('an admission message that beats kcp storing the change is retried, not taken for a delete', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    // CREATE: the webhook ran, kcp has not stored the object yet.
    await expect(reconcilePlacement(w.deps, msg(depRef('web'), 'admission'), 1)).resolves.toEqual({
      result: 'pending',
      writes: 0,
      messages: 0,
      delaySeconds: 1,
    });
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);
    await reconcilePlacement(w.deps, msg(depRef('web'), 'admission'), 2);
    expect(w.sync.drain().map((m) => `${m.action}:${m.cluster}`)).toEqual(['apply:east']);
    // DELETE: the webhook ran, kcp has not set the deletionTimestamp yet.
    await expect(reconcilePlacement(w.deps, msg(depRef('web'), 'delete'), 1)).resolves.toMatchObject({
      result: 'pending',
    });
    expect(w.sync.drain()).toEqual([]);
    // A later admission step refused the change: after the retries what kcp holds is the truth.
    // (a redelivered message re-sends the idempotent applies; it never deletes a live object)
    await reconcilePlacement(w.deps, msg(depRef('web'), 'delete'), NOT_YET_STORED_RETRIES + 1);
    expect(w.sync.drain().map((m) => `${m.action}:${m.cluster}`)).toEqual(['apply:east']);
    await expect(
      reconcilePlacement(w.deps, msg(depRef('never'), 'admission'), NOT_YET_STORED_RETRIES + 1),
    ).resolves.toMatchObject({ result: 'absent' });
    // A SyncTarget admission ahead of its storage is retried too.
    await expect(reconcilePlacement(w.deps, msg(stRef('west'), 'admission'), 1)).resolves.toMatchObject({
      result: 'pending',
    });
  });

  it('re-reads a create kcp stores moments after the webhook answered, instead of deferring it', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    setTimeout(() => w.kcp.put('apps', 'deployments', deploymentObj('soon') as never), 30);
    const outcome = await reconcilePlacement(
      { ...w.deps, rereadDelaysMs: [10, 50, 100] },
      msg(depRef('soon'), 'admission'),
      1,
    );
    expect(outcome.result).toBe('placed');
    expect(w.sync.drain().map((m) => `${m.action}:${m.cluster}`)).toEqual(['apply:east']);
  });

  it('the handler places the events/placement sample: a Deployment and its SyncTarget joining', async () => {
    const w = await world();
    w.kcp.put('workload.kcp.io', 'synctargets', syncTarget('east', 'us-east-1') as never);
    w.kcp.put('apps', 'deployments', deploymentObj('nginx') as never);
    const handler = makePlacementHandler(w.deps);
    const sample = loadEvent<SQSEvent>('placement', 'sqs-placement.json');
    expect((await handler(sample)).batchItemFailures).toEqual([]);
    // The sample's second message registered east; asked again, the Deployment lands there.
    expect((await handler(sample)).batchItemFailures).toEqual([]);
    const nginx = { ...depRef('nginx'), workspace: 'root:default' };
    expect((await w.decisions.get(nginx))?.clusters.map((c) => c.name)).toEqual(['east']);
    expect(w.sync.sent.filter((m) => m.ref.name === 'nginx').map((m) => [m.cluster, m.action])).toContainEqual([
      'east',
      'apply',
    ]);
  });

  it('the handler defers a pending message by its delay and reports it failed', async () => {
    const w = await world();
    const deferred: Array<[string, number]> = [];
    const handler = makePlacementHandler({
      ...w.deps,
      deferrer: { defer: async (handle, seconds) => void deferred.push([handle, seconds]) },
    });
    const record = {
      messageId: 'm1',
      receiptHandle: 'h1',
      body: JSON.stringify(msg(depRef('web'), 'admission')),
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn',
      awsRegion: 'us-east-1',
    };
    const out = await handler({ Records: [record as unknown as SQSEvent['Records'][number]] });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(deferred).toEqual([['h1', 1]]);
  });

  it('the handler says why a message goes to the DLQ when it is not done on its last delivery', async () => {
    const w = await world();
    const lines: Parameters<typeof memoryLog>[0] = [];
    const handler = makePlacementHandler({ ...w.deps, log: memoryLog(lines), rereadDelaysMs: [] });
    const { maxReceiveCount } = QUEUES.placement;
    // Its namespace gone from kcp: retried a few times, then placed from what kcp holds (never pending to the DLQ).
    w.kcp.put('apps', 'deployments', build.deployment('lost', { namespace: 'gone' }) as never);
    const lost = msg(build.ref(WS, build.TYPES.deployments, 'lost', 'gone'), 'event');
    const deadLettered = (): typeof lines => lines.filter((l) => l.message.includes('goes to the DLQ'));
    await handler({ Records: [build.sqsRecord('m1', lost, { receiveCount: 1 })] });
    expect(deadLettered()).toEqual([]);
    // A failure on the last delivery is said, with its error and receive count.
    w.kcp.get = () => Promise.reject(new Error('boom'));
    await handler({ Records: [build.sqsRecord('m2', lost, { receiveCount: maxReceiveCount })] });
    expect(deadLettered()).toEqual([
      expect.objectContaining({
        level: 'warn',
        attributes: expect.objectContaining({
          messageId: 'm2',
          receiveCount: maxReceiveCount,
          name: 'lost',
          error: expect.objectContaining({ category: 'internal' }),
        }),
      }),
    ]);
  });

  it('the handler defers a message whose kcp read was throttled by backoff, not the visibility timeout', async () => {
    const w = await world();
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);
    const deferred: Array<[string, number]> = [];
    const handler = makePlacementHandler({
      ...w.deps,
      rereadDelaysMs: [],
      deferrer: { defer: async (handle, seconds) => void deferred.push([handle, seconds]) },
    });
    const record = (id: string, receiveCount: number): SQSEvent['Records'][number] =>
      build.sqsRecord(id, msg(depRef('web'), 'admission'), { receiveCount, receiptHandle: `h-${id}` });
    const get = w.kcp.get.bind(w.kcp);
    w.kcp.get = () => Promise.reject(new ClusterThrottledError('kcp throttled', { retryAfterSeconds: 7 }));
    expect((await handler({ Records: [record('m1', 1), record('m2', 4)] })).batchItemFailures).toEqual([
      { itemIdentifier: 'm1' },
      { itemIdentifier: 'm2' },
    ]);
    // At least the base (above Retry-After's 7 s) each time; the first retry's ceiling is the base, the fourth's 8 × base.
    expect(deferred.map(([handle]) => handle)).toEqual(['h-m1', 'h-m2']);
    expect(deferred[0][1]).toBe(PLACEMENT_RETRY.baseSeconds);
    expect(deferred[1][1]).toBeGreaterThanOrEqual(PLACEMENT_RETRY.baseSeconds);
    expect(deferred[1][1]).toBeLessThanOrEqual(8 * PLACEMENT_RETRY.baseSeconds);

    // A bug is not deferred: it fails as before and comes back after the visibility timeout.
    deferred.length = 0;
    w.kcp.get = () => Promise.reject(new Error('boom'));
    expect((await handler({ Records: [record('m3', 1)] })).batchItemFailures).toEqual([{ itemIdentifier: 'm3' }]);
    expect(deferred).toEqual([]);

    // A dependency refusing the connection (an SDK error wrapping ECONNREFUSED) is transient, not a bug: deferred.
    w.kcp.get = () => Promise.reject(Object.assign(new Error('socket'), { cause: { code: 'ECONNREFUSED' } }));
    expect((await handler({ Records: [record('m4', 1)] })).batchItemFailures).toEqual([{ itemIdentifier: 'm4' }]);
    expect(deferred.map(([handle]) => handle)).toEqual(['h-m4']);
    w.kcp.get = get;
  });

  it('the handler reports a malformed message as failed and places the good one', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);
    const handler = makePlacementHandler(w.deps);
    const record = (id: string, body: string): SQSEvent['Records'][number] =>
      ({
        messageId: id,
        receiptHandle: id,
        body,
        attributes: { ApproximateReceiveCount: '1' },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn',
        awsRegion: 'us-east-1',
      }) as unknown as SQSEvent['Records'][number];
    const out = await handler({
      Records: [record('bad', '{"type":"placement"}'), record('good', JSON.stringify(msg(depRef('web'))))],
    });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(w.sync.sent.map((m) => m.cluster)).toEqual(['east']);
  });

  it("the handler reads a batch's decisions in one request, lists clusters once and places the namespace once", async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'), syncTarget('west', 'us-west-2'));
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const name of names) w.kcp.put('apps', 'deployments', deploymentObj(name) as never);
    const handler = makePlacementHandler(w.deps);
    const batch = (): SQSEvent => ({
      Records: names.map(
        (name) =>
          ({
            messageId: name,
            receiptHandle: name,
            body: JSON.stringify(msg(depRef(name))),
            attributes: { ApproximateReceiveCount: '1' },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn',
            awsRegion: 'us-east-1',
          }) as unknown as SQSEvent['Records'][number],
      ),
    });
    const commands = await commandsDuring(async () => {
      expect((await handler(batch())).batchItemFailures).toEqual([]);
    });
    const count = (name: string): number => commands.filter((c) => c === name).length;
    // Six objects and their namespace: one BatchGetItem, no GetItem; the inventory's two Queries once; one decision
    // written per object and one for the namespace, none lost to a race between the batch's messages.
    expect(count('BatchGetItemCommand')).toBe(1);
    expect(count('GetItemCommand')).toBe(0);
    // One more Query: the namespace's first cluster joins the workspace's work, whose cluster-scoped objects follow it.
    expect(count('QueryCommand')).toBe(3);
    expect(count('PutItemCommand')).toBe(names.length + 1);
    // The default placement puts a namespace on one cluster; every object follows it there.
    const sent = w.sync.drain();
    expect(sent).toHaveLength(names.length);
    expect(new Set(sent.map((m) => m.cluster)).size).toBe(1);

    // The same batch again: nothing changed, so one BatchGetItem, the inventory, and no write.
    const again = await commandsDuring(async () => {
      expect((await handler(batch())).batchItemFailures).toEqual([]);
    });
    expect(again.sort()).toEqual(['BatchGetItemCommand', 'QueryCommand', 'QueryCommand']);
    expect(w.sync.sent).toHaveLength(0);
  });
});

describe("cluster-scoped objects follow the workspace's work", () => {
  const crdRef: ObjectRef = {
    workspace: WS,
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    name: 'widgets.example.com',
  };
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com', generation: 1 },
    spec: { group: 'example.com' },
  };
  const inNs = (namespace: string, name: string): ObjectRef => ({ ...depRef(name), namespace });
  const clustersOf = async (w: World, ref: ObjectRef): Promise<string[]> =>
    ((await w.decisions.get(ref))?.clusters ?? []).map((c) => c.name);

  it('waits for work, then goes to every cluster a namespace is placed on, re-placed as a namespace joins one', async () => {
    const w = await world();
    await registerClusters(
      w,
      syncTarget('east', 'us-east-1'),
      syncTarget('west', 'us-west-2'),
      syncTarget('eu', 'eu-west-1'),
    );
    // Applied first, as users do: no namespace of the workspace is placed yet, so it waits (and says why).
    w.kcp.put('apiextensions.k8s.io', 'customresourcedefinitions', crd as never);
    await reconcilePlacement(w.deps, msg(crdRef, 'admission'));
    await expect(w.decisions.get(crdRef)).resolves.toMatchObject({
      clusters: [],
      scheduled: false,
      placement: '(workspace work)',
    });
    expect((await w.decisions.get(crdRef))!.message).toContain(
      "not running the workspace's namespaced work (no cluster yet)",
    );

    // Namespaces land on clusters: each namespace that brings a new cluster re-places the CRD once.
    const homes = new Set<string>();
    for (const ns of ['default', 'shop', 'team-1', 'team-2', 'team-3', 'team-4']) {
      if (ns !== 'default')
        w.kcp.put('', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      w.kcp.put('apps', 'deployments', {
        ...deploymentObj('web'),
        metadata: { name: 'web', namespace: ns, generation: 1 },
      } as never);
      await reconcilePlacement(w.deps, msg(inNs(ns, 'web')));
      const home = (await clustersOf(w, inNs(ns, 'web')))[0];
      const joined = !homes.has(home);
      homes.add(home);
      const followers = w.placement.drain().filter((m) => m.ref.resource === 'customresourcedefinitions');
      expect(followers).toHaveLength(joined ? 1 : 0);
      for (const m of followers) await reconcilePlacement(w.deps, m);
      expect(await clustersOf(w, crdRef)).toEqual([...homes].sort());
    }
    expect(homes.size).toBeGreaterThan(1);
    const applies = w.sync.drain().filter((m) => m.ref.resource === 'customresourcedefinitions');
    expect(applies.map((m) => `${m.action}:${m.cluster}`).sort()).toEqual([...homes].map((c) => `apply:${c}`).sort());
  });
});

describe('a custom resource that gave up waiting for its CRD', () => {
  const crdRef: ObjectRef = {
    workspace: WS,
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    name: 'widgets.example.com',
  };
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com', generation: 1 },
    spec: { group: 'example.com', names: { plural: 'widgets', kind: 'Widget' } },
  };
  const widgetRef: ObjectRef = {
    workspace: WS,
    group: 'example.com',
    version: 'v1',
    resource: 'widgets',
    kind: 'Widget',
    namespace: 'default',
    name: 'gadget',
  };

  it('is synced again when the CRD is placed on its cluster, without an edit', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    // A Placement keeps the CRD off every cluster at first; the Widget follows its namespace to east.
    const hold = {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'crds' },
      spec: {
        objectSelectors: [{ group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' }],
        clusterConstraints: { regions: ['nowhere'] },
      },
    };
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'all' },
      spec: {},
    } as never);
    w.kcp.put('scheduling.kcp.io', 'placements', { ...hold, spec: { ...hold.spec } } as never);
    w.kcp.put('apiextensions.k8s.io', 'customresourcedefinitions', crd as never);
    w.kcp.put('example.com', 'widgets', {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'gadget', namespace: 'default', generation: 1 },
      spec: { size: 3 },
    } as never);
    await reconcilePlacement(w.deps, msg(widgetRef));
    await reconcilePlacement(w.deps, msg(crdRef));
    expect((await w.decisions.get(widgetRef))?.clusters.map((c) => c.name)).toEqual(['east']);
    expect((await w.decisions.get(crdRef))?.clusters).toEqual([]);
    // sync-apply gave up on the Widget: east does not serve widgets.
    const widgetDecision = (await w.decisions.get(widgetRef))!.decisionVersion;
    await new DynamoSyncStateStore({ doc, tableName: w.tableName }).put({
      ref: widgetRef,
      cluster: 'east',
      state: 'failed',
      decisionVersion: widgetDecision,
      appliedGeneration: 0,
      updatedAt: new Date(0).toISOString(),
      lastError: {
        category: 'cluster-configuration',
        message: 'Cluster east does not serve example.com/v1/widgets (Widget)',
        hint: '',
        at: new Date(0).toISOString(),
      },
    });
    w.sync.drain();

    // The Placement is relaxed: the CRD goes to east, and the Widget is sent again toward its own decision.
    w.kcp.put('scheduling.kcp.io', 'placements', {
      ...hold,
      spec: { objectSelectors: hold.spec.objectSelectors },
    } as never);
    await reconcilePlacement(w.deps, msg(crdRef));
    const sent = w.sync.drain().map((m) => `${m.ref.kind}:${m.action}:${m.cluster}:${m.decisionVersion}`);
    expect(sent.sort()).toEqual([
      `CustomResourceDefinition:apply:east:${(await w.decisions.get(crdRef))!.decisionVersion}`,
      `Widget:apply:east:${widgetDecision}`,
    ]);
    // An unchanged CRD decision resends nothing.
    await reconcilePlacement(w.deps, msg(crdRef));
    expect(w.sync.drain()).toEqual([]);
  });
});

describe('an object re-placed because its namespace moved', () => {
  const nsRef: ObjectRef = {
    workspace: WS,
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    name: 'team-a',
  };
  const webRef: ObjectRef = { ...depRef('web'), namespace: 'team-a' };
  const onClusters = async (w: World, ref: ObjectRef): Promise<string[] | undefined> =>
    (await w.decisions.get(ref))?.clusters.map((c) => c.name);

  /** team-a matches no Placement and web in it runs nowhere; the deps' policy source caches Namespaces for a minute. */
  async function unplacedTeam(): Promise<World> {
    const w = await world();
    w.deps.policies = makePolicySource(w.deps.kube, w.deps.log, { ttlMs: 60_000 });
    await registerClusters(w, syncTarget('east', 'us-east-1'), syncTarget('west', 'us-west-2'));
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'two-regions' },
      spec: {
        namespaceSelector: { matchLabels: { team: 'web' } },
        clusterConstraints: { regions: ['us-east-1', 'us-west-2'] },
        numberOfClusters: 2,
      },
    } as never);
    w.kcp.put('', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    w.kcp.put('apps', 'deployments', {
      ...deploymentObj('web'),
      metadata: { name: 'web', namespace: 'team-a', generation: 1 },
    } as never);
    await reconcilePlacement(w.deps, msg(webRef));
    expect(await onClusters(w, webRef)).toEqual([]);
    w.kcp.put('', 'namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a', labels: { team: 'web' } },
    });
    return w;
  }

  function sqsEvent(messages: PlacementMessage[]): SQSEvent {
    return {
      Records: messages.map(
        (m, i) =>
          ({
            messageId: `m${i}`,
            receiptHandle: `m${i}`,
            body: JSON.stringify(m),
            attributes: { ApproximateReceiveCount: '1' },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn',
            awsRegion: 'us-east-1',
          }) as unknown as SQSEvent['Records'][number],
      ),
    };
  }

  it('follows it in an invocation that runs while the namespace is still being labelled (one container)', async () => {
    const w = await unplacedTeam();
    // The re-place message is taken by a second invocation that runs to its end before the first has patched
    // team-a's state labels: what a fast queue (the emulators in worker threads) does on the local stack.
    const handler = makePlacementHandler(w.deps);
    const followers: SQSBatchResponse[] = [];
    w.deps.placementQueue = {
      name: 'placement',
      send: async (messages) => void followers.push(await handler(sqsEvent(messages))),
    };
    expect((await handler(sqsEvent([msg(nsRef, 'admission')]))).batchItemFailures).toEqual([]);
    expect(followers).toEqual([{ batchItemFailures: [] }]);
    expect(await onClusters(w, nsRef)).toEqual(['east', 'west']);
    expect(await onClusters(w, webRef)).toEqual(['east', 'west']);
  });

  it('follows it in a container whose cached Namespace is older than the namespace decision', async () => {
    const w = await unplacedTeam();
    // Another container places the namespace; this one, which cached team-a before the relabel, gets web's message.
    const other: PlacementDeps = { ...w.deps, policies: makePolicySource(w.deps.kube, w.deps.log, { ttlMs: 60_000 }) };
    await reconcilePlacement(other, msg(nsRef, 'admission'));
    expect(await onClusters(w, nsRef)).toEqual(['east', 'west']);
    const follow = w.placement.drain();
    expect(follow.map((m) => m.ref.name)).toEqual(['web']);
    await expect(reconcilePlacement(w.deps, follow[0])).resolves.toMatchObject({ result: 'placed' });
    expect(await onClusters(w, webRef)).toEqual(['east', 'west']);

    // The same message again does nothing, and says why at DEBUG.
    const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
    await expect(reconcilePlacement({ ...w.deps, log: memoryLog(lines) }, follow[0])).resolves.toMatchObject({
      result: 'unchanged',
      writes: 0,
      messages: 0,
    });
    expect(
      lines.filter((l) => l.attributes.name === 'web').map((l) => [l.level, l.message, l.attributes.clusters]),
    ).toEqual([
      [
        'debug',
        'Nothing to do for Deployment team-a/web: its decision, content and generation are unchanged',
        ['east', 'west'],
      ],
    ]);
  });
});

describe("the handler's sync messages", () => {
  /** A sync queue that records each send call (SqsWorkQueue sends up to ten messages as one SendMessageBatch). */
  class CountingQueue extends MemoryQueue<SyncMessage> {
    readonly calls: SyncMessage[][] = [];
    /** Per call: whether the first message's object already carried its state labels in kcp when it was sent. */
    readonly labelledBefore: boolean[] = [];
    failCall?: number;
    constructor(private readonly kcp: FakeKcp) {
      super('sync');
    }
    override async send(messages: SyncMessage[]): Promise<void> {
      const call = this.calls.push(messages);
      const object = await this.kcp.get({
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        namespace: 'default',
        name: messages[0].ref.name,
      });
      this.labelledBefore.push(
        Object.keys(object?.metadata.labels ?? {}).some((k) => k.startsWith(STATE_LABEL_PREFIX)),
      );
      if (call === this.failCall) throw new Error('SQS is down');
      await super.send(messages);
    }
  }
  const record = (name: string, receiveCount = 1): SQSEvent['Records'][number] =>
    build.sqsRecord(name, msg(depRef(name)), { receiveCount });

  /** `names` Deployments, each placed on all three clusters. */
  async function onThreeClusters(names: string[]): Promise<{ w: World; queue: CountingQueue }> {
    const w = await world();
    await registerClusters(
      w,
      syncTarget('east', 'us-east-1'),
      syncTarget('west', 'us-west-2'),
      syncTarget('edge', 'us-west-2'),
    );
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'all' },
      spec: {},
    });
    for (const name of names) w.kcp.put('apps', 'deployments', deploymentObj(name) as never);
    return { w, queue: new CountingQueue(w.kcp) };
  }
  // As many as the handler runs at once: all of them start before any sends, so the chunks are deterministic.
  const four = ['a', 'b', 'c', 'd'];

  it('go out in chunks of ten for the objects placed together, not one send per object', async () => {
    const { w, queue } = await onThreeClusters(four);
    const handler = makePlacementHandler({ ...w.deps, syncQueue: queue });
    expect((await handler({ Records: four.map((n) => record(n)) })).batchItemFailures).toEqual([]);
    // Four objects × three clusters: 10 + 2 in two SendMessageBatch requests (four requests of three before).
    expect(queue.calls.map((c) => c.length)).toEqual([10, 2]);
    expect(queue.sent.map((m) => `${m.ref.name}:${m.cluster}`).sort()).toEqual(
      four.flatMap((n) => ['east', 'edge', 'west'].map((c) => `${n}:${c}`)).sort(),
    );
  });

  it('a batch of one sends at once: gathering adds no latency', async () => {
    const { w, queue } = await onThreeClusters(['solo']);
    const handler = makePlacementHandler({ ...w.deps, syncQueue: queue });
    expect((await handler({ Records: [record('solo')] })).batchItemFailures).toEqual([]);
    expect(queue.calls.map((c) => c.length)).toEqual([3]);
    expect(queue.labelledBefore).toEqual([false]);
    const labelled = await w.kcp.get({
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      namespace: 'default',
      name: 'solo',
    });
    // A first decision's state labels are left to the object's first status refresh (after the applies).
    expect(Object.keys(labelled?.metadata.labels ?? {}).filter((k) => k.startsWith(STATE_LABEL_PREFIX))).toHaveLength(
      0,
    );
  });

  it('a chunk that fails to send fails exactly the placement messages it carried, and their retry resends', async () => {
    const { w, queue } = await onThreeClusters(four);
    queue.failCall = 2;
    const handler = makePlacementHandler({ ...w.deps, syncQueue: queue });
    const out = await handler({ Records: four.map((n) => record(n)) });
    const lost = [...new Set(queue.calls[1].map((m) => m.ref.name))];
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(lost.sort());
    // The decisions were written; the retried deliveries resend the applies that were lost.
    const retry = await handler({ Records: lost.map((n) => record(n, 2)) });
    expect(retry.batchItemFailures).toEqual([]);
    expect(new Set(queue.sent.map((m) => `${m.ref.name}:${m.cluster}`)).size).toBe(12);
  });
});

describe("the handler's read-ahead", () => {
  const event = (message: PlacementMessage): SQSEvent => ({
    Records: [
      {
        messageId: 'm1',
        receiptHandle: 'h1',
        body: JSON.stringify(message),
        attributes: { ApproximateReceiveCount: '1' },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn',
        awsRegion: 'us-east-1',
      } as unknown as SQSEvent['Records'][number],
    ],
  });

  it('lists the clusters beside the batch decision read, so no message waits for them after its kcp read', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);
    const issuedAtKcpRead: string[][] = [];
    const commands = await commandsDuring(async (sent) => {
      const get = w.kcp.get.bind(w.kcp);
      w.kcp.get = async (name) => {
        issuedAtKcpRead.push([...sent]);
        return get(name);
      };
      expect((await makePlacementHandler(w.deps)(event(msg(depRef('web'), 'admission')))).batchItemFailures).toEqual(
        [],
      );
    });
    // The object's kcp read found the decisions and the inventory's two Queries already sent (before: the Queries
    // came after it, one more round trip on every create's way to its clusters); nothing is listed twice.
    expect(issuedAtKcpRead[0].sort()).toEqual(['BatchGetItemCommand', 'QueryCommand', 'QueryCommand']);
    // The third: the namespace's first cluster joins the workspace's work, so its cluster-scoped objects are listed.
    expect(commands.filter((c) => c === 'QueryCommand')).toHaveLength(3);
    expect(w.sync.drain().map((m) => `${m.action}:${m.cluster}`)).toEqual(['apply:east']);
  });

  it('lists nothing ahead for a batch of deletes', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    const commands = await commandsDuring(async () => {
      await makePlacementHandler(w.deps)(event(msg(depRef('gone'), 'delete')));
    });
    expect(commands.filter((c) => c === 'QueryCommand')).toEqual([]);
  });
});

/** Issue 14 (convergence): a sync queue whose next `failures` sends throw, as SQS does when it is down or the process dies mid-send. */
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

const NOW = Date.parse('2025-01-01T00:00:00Z');
const summary = (messages: SyncMessage[]): string[] => messages.map((m) => `${m.action}:${m.cluster}`).sort();
const withExtra = (
  ref: ObjectRef,
  reason: PlacementMessage['reason'],
  extra: Partial<PlacementMessage>,
): PlacementMessage => ({ ...msg(ref, reason), ...extra });

/** A Deployment carrying tmc's finalizer, as ingress admits it. */
function deployment(
  name: string,
  generation = 1,
  replicas = 2,
  metadata: Partial<KubeObject['metadata']> = {},
): KubeObject {
  const base = deploymentObj(name, generation, replicas) as unknown as KubeObject;
  return { ...base, metadata: { ...base.metadata, finalizers: [SYNC_FINALIZER], ...metadata } };
}

/** A world whose sync queue can fail, with `clusters` registered and no in-process re-reads. */
async function convergeWorld(...clusters: Array<[string, string]>): Promise<World & { sync: FlakyQueue }> {
  const w = await world();
  const sync = new FlakyQueue('sync');
  const deps: PlacementDeps = { ...w.deps, syncQueue: sync, rereadDelaysMs: [] };
  const out = { ...w, deps, sync };
  await registerClusters(out, ...clusters.map(([name, region]) => syncTarget(name, region)));
  return out;
}

const labelsOf = (w: World, name: string): Promise<KubeObject | undefined> =>
  w.kcp.get({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name });

describe('a redelivered placement message after the sync send failed', () => {
  it('resends the deletes of a deleted object instead of releasing its finalizer with copies left', async () => {
    const w = await convergeWorld(['east', 'us-east-1']);
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
    const w = await convergeWorld(['east', 'us-east-1'], ['west', 'us-west-2']);
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'p' },
      spec: { clusterConstraints: { regions: ['us-east-1'] } },
    });
    w.kcp.put('apps', 'deployments', deployment('web'));
    await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(summary(w.sync.drain())).toEqual(['apply:east']);

    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'p' },
      spec: { clusterConstraints: { regions: ['us-west-2'] } },
    });
    w.sync.failures = 1;
    await expect(reconcilePlacement(w.deps, msg(depRef('web'), 'placement-change'), 1)).rejects.toThrow('SQS is down');
    expect((await w.decisions.get(depRef('web')))?.clusters.map((c) => c.name)).toEqual(['west']);

    await reconcilePlacement(w.deps, msg(depRef('web'), 'placement-change'), 2);
    expect(summary(w.sync.drain())).toEqual(['apply:west', 'delete:east']);
  });

  it('a first delivery (a duplicate or a resync) sends nothing: the floor of a no-op resync; a redelivery resends', async () => {
    const w = await convergeWorld(['east', 'us-east-1']);
    w.kcp.put('apps', 'deployments', deployment('web'));
    w.sync.failures = 1;
    await expect(reconcilePlacement(w.deps, msg(depRef('web')), 1)).rejects.toThrow('SQS is down');
    // (it still patches the state labels the failed attempt never reached)
    await expect(reconcilePlacement(w.deps, msg(depRef('web')), 1)).resolves.toMatchObject({ messages: 0 });
    await expect(reconcilePlacement(w.deps, msg(depRef('web'), 'resync'), 1)).resolves.toMatchObject({ messages: 0 });
    await expect(reconcilePlacement(w.deps, msg(depRef('web'), 'resync'), 2)).resolves.toMatchObject({ messages: 1 });
    expect(summary(w.sync.drain())).toEqual(['apply:east']);
  });
});

describe('a deleted object still recorded on a cluster an earlier decision left (chaos seed 101)', () => {
  it('sends the delete there too when its held deletes go again, so the finalizer can be released', async () => {
    const w = await convergeWorld(['east', 'us-east-1'], ['west', 'us-west-2']);
    const syncState = new DynamoSyncStateStore({ doc, tableName: w.tableName });
    const deps: PlacementDeps = { ...w.deps, copies: syncState };
    const placement = (region: string): KubeObject => ({
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'p' },
      spec: { clusterConstraints: { regions: [region] } },
    });
    w.kcp.put('scheduling.kcp.io', 'placements', placement('us-east-1'));
    w.kcp.put('apps', 'deployments', deployment('web'));
    await reconcilePlacement(deps, msg(depRef('web')));
    expect(summary(w.sync.drain())).toEqual(['apply:east']);
    // Moved to west; the delete to east failed until it was dead-lettered (kcp answering 429), so east's item stays.
    w.kcp.put('scheduling.kcp.io', 'placements', placement('us-west-2'));
    await reconcilePlacement(deps, msg(depRef('web'), 'placement-change'));
    expect(summary(w.sync.drain())).toEqual(['apply:west', 'delete:east']);
    const at = '2025-01-01T00:00:00Z';
    await syncState.put({
      ref: depRef('web'),
      cluster: 'west',
      state: 'applied',
      decisionVersion: 2,
      appliedGeneration: 1,
      updatedAt: at,
    });
    await syncState.put({
      ref: depRef('web'),
      cluster: 'east',
      state: 'failed',
      decisionVersion: 2,
      appliedGeneration: 1,
      updatedAt: at,
      lastError: { category: 'cluster-throttled', message: 'kcp throttled the request', hint: 'retried', at },
    });

    // kubectl delete: the Deleted decision removes it from west, the cluster its last decision named.
    w.kcp.put('apps', 'deployments', deployment('web', 1, 2, { deletionTimestamp: at }));
    await reconcilePlacement(deps, msg(depRef('web'), 'delete'));
    expect(summary(w.sync.drain())).toEqual(['delete:west']);
    await syncState.put({
      ref: depRef('web'),
      cluster: 'west',
      state: 'deleted',
      decisionVersion: 3,
      appliedGeneration: 1,
      updatedAt: at,
    });

    // The sweep asks again about the object kcp still holds: east's copy gets its delete, west's goes again.
    const again = await reconcilePlacement(deps, msg(depRef('web'), 'resync'));
    expect(again).toMatchObject({ result: 'placed', messages: 2 });
    expect(
      w.sync
        .drain()
        .map((m) => `${m.action}:${m.cluster}:v${m.decisionVersion}`)
        .sort(),
    ).toEqual(['delete:east:v3', 'delete:west:v3']);
    expect((await labelsOf(w, 'web'))?.metadata.finalizers).toEqual([SYNC_FINALIZER]);
  });
});

describe('a delete held past the expiry of its Deleted decision', () => {
  it('deletes the copies tmc recorded before releasing the finalizer, then releases it', async () => {
    const w = await convergeWorld(['east', 'us-east-1']);
    const syncState = new DynamoSyncStateStore({ doc, tableName: w.tableName });
    const deps: PlacementDeps = { ...w.deps, copies: syncState };
    w.kcp.put('apps', 'deployments', deployment('web'));
    await reconcilePlacement(deps, msg(depRef('web')));
    expect(summary(w.sync.drain())).toEqual(['apply:east']);
    const applied = {
      ref: depRef('web'),
      cluster: 'east',
      state: 'applied' as const,
      decisionVersion: 1,
      appliedGeneration: 1,
      updatedAt: '2025-01-01T00:00:00Z',
    };
    await syncState.put(applied);

    // Deleted in kcp; the copy on east held the delete so long that its Deleted decision expired (DynamoDB's TTL).
    w.kcp.put('apps', 'deployments', deployment('web', 1, 2, { deletionTimestamp: '2025-01-01T00:00:00Z' }));
    await doc.send(new DeleteCommand({ TableName: w.tableName, Key: { pk: objPk(depRef('web')), sk: 'DECISION' } }));

    // The recovery sweep's resync: the copy is deleted (at the record's version, so sync-apply does not drop it as
    // stale) and the finalizer stays until sync-apply finds every cluster clean.
    const resync = await reconcilePlacement(deps, msg(depRef('web'), 'resync'));
    expect(resync).toMatchObject({ result: 'placed', messages: 1 });
    expect(w.sync.drain().map((m) => `${m.action}:${m.cluster}:v${m.decisionVersion}`)).toEqual(['delete:east:v1']);
    expect((await labelsOf(w, 'web'))?.metadata.finalizers).toEqual([SYNC_FINALIZER]);

    // The copy is gone: nothing is left to wait for, so placement lets the delete complete.
    await syncState.put({ ...applied, state: 'deleted' });
    await reconcilePlacement(deps, msg(depRef('web'), 'resync'));
    expect(w.sync.drain()).toEqual([]);
    expect((await labelsOf(w, 'web'))?.metadata.finalizers).toEqual([]);
  });
});

describe('failover with nowhere to go', () => {
  /** The inventory as the engine sees it, with `east` Unhealthy since long before evictAfter. */
  function withUnhealthyEast(inventory: ClusterInventory): ClusterInventory {
    return new Proxy(inventory, {
      get(target, prop, receiver) {
        if (prop === 'list') {
          return async (workspace: string) =>
            (await target.list(workspace)).map((c) =>
              c.name === 'east' ? { ...c, health: 'Unhealthy' as const, unhealthySince: NOW - 3_600_000 } : c,
            );
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  it('keeps the workload where it runs, sends no delete, and says why in the decision', async () => {
    const w = await convergeWorld(['east', 'us-east-1']);
    const events: ObjectEvent[] = [];
    const recorded: EventRecorder = { record: async (_ref, event) => void events.push(event) };
    w.kcp.put('apps', 'deployments', deployment('web'));
    await reconcilePlacement({ ...w.deps, events: recorded }, msg(depRef('web')));
    expect(summary(w.sync.drain())).toEqual(['apply:east']);

    const sick = { ...w.deps, events: recorded, inventory: withUnhealthyEast(w.deps.inventory) };
    await reconcilePlacement(sick, msg(depRef('web'), 'failover'));
    expect(w.sync.drain()).toEqual([]);
    const kept = await w.decisions.get(depRef('web'));
    expect(kept).toMatchObject({
      scheduled: false,
      reason: 'Unschedulable',
      clusters: [{ name: 'east', replicas: 2 }],
    });
    expect(kept?.message).toMatch(/^No cluster to fail over to: kept on east until one fits\. 0\/1 clusters match/);
    // Asked again (the sweep's backoff), nothing changes and nothing is written.
    await expect(reconcilePlacement(sick, msg(depRef('web'), 'failover'))).resolves.toMatchObject({
      result: 'unchanged',
      writes: 0,
      messages: 0,
    });

    // A healthy cluster appears: the next failover moves the workload there.
    w.kcp.put('workload.kcp.io', 'synctargets', syncTarget('west', 'us-west-2') as never);
    await reconcilePlacement(sick, msg(stRef('west'), 'cluster-change'));
    await reconcilePlacement(sick, msg(depRef('web'), 'failover'));
    expect((await w.decisions.get(depRef('web')))?.clusters.map((c) => c.name)).toEqual(['west']);
    expect(summary(w.sync.drain())).toEqual(['apply:west', 'delete:east']);
    // What `kubectl describe deployment web` shows: placed, kept with nowhere to go (once: the repeat wrote nothing),
    // then moved by failover.
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ['Normal', 'Placed'],
      ['Warning', 'FailedPlacement'],
      ['Normal', 'FailedOver'],
    ]);
    expect(events[0].message).toBe('Placed on east');
    expect(events[1].message).toMatch(/^No cluster to fail over to: kept on east/);
    expect(events[2].message).toBe(
      'Moved off east (unhealthy past evictAfter or tainted NoExecute) to west; runs on west',
    );
  });
});

describe("a user's update racing tmc's own status write", () => {
  it('waits for the admitted change instead of taking the status write for it, then syncs it', async () => {
    const w = await convergeWorld(['east', 'us-east-1']);
    const stored = w.kcp.put('apps', 'deployments', deployment('web', 1, 2));
    await reconcilePlacement(w.deps, msg(depRef('web')));
    w.sync.drain();

    // The admission of `kubectl scale --replicas=5` (an UPDATE carrying the new object) reaches placement while kcp
    // still serves the old spec, but tmc's status write has already moved the resourceVersion past the request's.
    const scaled = deployment('web', 1, 5, {
      resourceVersion: stored.metadata.resourceVersion,
      uid: stored.metadata.uid,
    });
    await w.kcp.patchStatus(
      { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'web' },
      { readyReplicas: 2 },
    );
    const admission = withExtra(depRef('web'), 'admission', {
      resourceVersion: stored.metadata.resourceVersion,
      generation: 1,
      object: scaled,
    });
    await expect(reconcilePlacement(w.deps, admission, 1)).resolves.toMatchObject({ result: 'pending' });
    expect(w.sync.drain()).toEqual([]);

    // The webhook's repeated call is deduplicated by ingress; the first message, retried, sees the stored change.
    w.kcp.put('apps', 'deployments', deployment('web', 2, 5, { uid: stored.metadata.uid }));
    await expect(reconcilePlacement(w.deps, admission, 2)).resolves.toMatchObject({ result: 'placed' });
    expect(summary(w.sync.drain())).toEqual(['apply:east']);
  });

  it('an admission whose change was refused later is taken as kcp has it after the retries', async () => {
    const w = await convergeWorld(['east', 'us-east-1']);
    const stored = w.kcp.put('apps', 'deployments', deployment('web', 1, 2));
    await reconcilePlacement(w.deps, msg(depRef('web')));
    w.sync.drain();
    // tmc's own writes after the applies: the first status refresh (state labels with it), then status.
    const web = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'web' };
    await w.kcp.mergePatch(web, { metadata: { labels: { [stateLabel(WS, 'east')]: 'Sync' } } });
    await w.kcp.patchStatus(web, { readyReplicas: 2 });
    const admission = withExtra(depRef('web'), 'admission', {
      resourceVersion: stored.metadata.resourceVersion,
      generation: 1,
      object: deployment('web', 1, 9),
    });
    const before = await w.decisions.get(depRef('web'));
    // Past the retries kcp is the truth: no new decision (a redelivery resends the idempotent applies).
    await expect(reconcilePlacement(w.deps, admission, 6)).resolves.toMatchObject({ writes: 0 });
    expect((await w.decisions.get(depRef('web')))?.decisionVersion).toBe(before?.decisionVersion);
  });
});

describe('status of an object no apply will follow', () => {
  it('is refreshed by placement when it is placed nowhere, and not for an ordinary placement', async () => {
    const w = await convergeWorld(['east', 'us-east-1']);
    const refreshed: string[] = [];
    const deps: PlacementDeps = { ...w.deps, status: { refresh: async (ref) => void refreshed.push(ref.name) } };
    w.kcp.put('apps', 'deployments', deployment('web'));
    await reconcilePlacement(deps, msg(depRef('web')));
    expect(refreshed).toEqual([]); // sync-apply refreshes after its apply

    // A Placement that selects no namespace here: no apply follows, so placement writes the reason to status itself.
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'elsewhere' },
      spec: { namespaceSelector: { matchLabels: { team: 'b' } } },
    });
    await reconcilePlacement(deps, msg(depRef('web'), 'placement-change'));
    expect((await w.decisions.get(depRef('web')))?.reason).toBe('NoMatchingPlacement');
    expect(refreshed).toEqual(['web']);
    await reconcilePlacement(deps, msg(depRef('web'), 'placement-change'));
    expect(refreshed).toEqual(['web']); // unchanged: nothing to say again
  });
});

describe('kinds whose status has no conditions say why they are placed nowhere (issue 14, "status never lies")', () => {
  it('a ConfigMap in a namespace no Placement selects and a PersistentVolume placed nowhere carry the reason in an annotation and an Event', async () => {
    const w = await world();
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    const events: Array<{ name: string; event: ObjectEvent }> = [];
    const recorded: EventRecorder = { record: async (ref, event) => void events.push({ name: ref.name, event }) };
    const status = makeStatusReporter({
      kube: w.deps.kube,
      syncState: new DynamoSyncStateStore({ doc, tableName: w.tableName }),
      statusStore: new DynamoStatusStore({ doc, tableName: w.tableName }),
    });
    const deps: PlacementDeps = { ...w.deps, status, events: recorded };
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'team-b-only' },
      spec: { namespaceSelector: { matchLabels: { team: 'b' } } },
    });
    w.kcp.put('', 'configmaps', build.configMap('settings'));
    const cmRef = build.ref(WS, build.TYPES.configmaps, 'settings', 'default');
    const pvRef: ObjectRef = {
      workspace: WS,
      group: '',
      version: 'v1',
      resource: 'persistentvolumes',
      kind: 'PersistentVolume',
      name: 'shared-data',
    };
    w.kcp.put('', 'persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'shared-data' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } },
    });
    await reconcilePlacement(deps, msg(cmRef));
    await reconcilePlacement(deps, msg(pvRef));

    const conditionsOf = async (ref: ObjectRef): Promise<Array<Record<string, string>>> => {
      const object = await w.kcp.get(ref);
      const raw = object?.metadata.annotations?.[CONDITIONS_ANNOTATION];
      return raw ? (JSON.parse(raw) as Array<Record<string, string>>) : [];
    };
    for (const ref of [cmRef, pvRef]) {
      const decision = await w.decisions.get(ref);
      expect(decision?.clusters).toEqual([]);
      const placed = (await conditionsOf(ref)).find((c) => c.type === 'Placed');
      expect(placed).toMatchObject({ status: 'False', reason: decision?.reason, message: decision?.message });
      expect((await conditionsOf(ref)).find((c) => c.type === 'Synced')).toMatchObject({
        status: 'False',
        message: 'Not placed on any cluster',
      });
      expect(events.filter((e) => e.name === ref.name).map((e) => [e.event.reason, e.event.message])).toEqual([
        ['FailedPlacement', decision?.message],
      ]);
    }
    expect((await w.decisions.get(cmRef))?.reason).toBe('NoMatchingPlacement');
    expect((await w.kcp.get(cmRef))?.status).toBeUndefined();
  });
});

describe('objects in a re-created namespace (issue 14, seed 163)', () => {
  const nsRef: ObjectRef = {
    workspace: WS,
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    name: 'search',
  };
  const inSearch = (name: string): ObjectRef => ({ ...depRef(name), namespace: 'search' });
  const searchNamespace = (uid: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'search', uid, labels: { chaos: 'true' } },
  });
  const searchDeployment = (name: string, uid: string): KubeObject =>
    ({ ...deploymentObj(name), metadata: { name, namespace: 'search', uid, generation: 1 } }) as KubeObject;

  /** east and west, the chaos suite's Placement (namespaces labelled chaos=true, two clusters), search and its api. */
  async function seedSearch(w: World): Promise<void> {
    await registerClusters(w, syncTarget('east', 'us-east-1'), syncTarget('west', 'us-west-2'));
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'chaos' },
      spec: { namespaceSelector: { matchLabels: { chaos: 'true' } }, numberOfClusters: 2 },
    } as never);
    w.kcp.put('', 'namespaces', searchNamespace('uid-search-1'));
    w.kcp.put('apps', 'deployments', searchDeployment('api', 'uid-api-1'));
  }

  it('an object stored in a namespace being deleted follows it nowhere, on its first message and when asked again', async () => {
    // Chaos seed 2502: a create admitted slowly was stored after its namespace began terminating. The first object
    // placed after the namespace's delete recorded it Deleted and went nowhere; a later ask (the sweep's) found the
    // Deleted decision, took the namespace for absent and placed the object by the Placement alone.
    const w = await world();
    await seedSearch(w);
    await reconcilePlacement(w.deps, msg(inSearch('api')));
    w.sync.drain();
    w.kcp.put('', 'namespaces', {
      ...searchNamespace('uid-search-1'),
      metadata: { ...searchNamespace('uid-search-1').metadata, deletionTimestamp: '2025-01-01T00:00:00Z' },
    });
    await reconcilePlacement(w.deps, { ...msg(nsRef, 'delete'), ref: { ...nsRef, uid: 'uid-search-1' } });
    expect(await w.decisions.get(nsRef)).toMatchObject({ reason: 'Deleted', clusters: [] });

    w.kcp.put('apps', 'deployments', searchDeployment('late', 'uid-late-1'));
    for (const reason of ['event', 'cluster-change'] as const) {
      await reconcilePlacement(w.deps, msg(inSearch('late'), reason));
      expect(await w.decisions.get(inSearch('late'))).toMatchObject({ scheduled: false, clusters: [] });
      expect(w.sync.drain()).toEqual([]);
    }
  });

  it('a 404 for the namespace of an object kcp serves is retried, never taken for "no labels"', async () => {
    const w = await world();
    await seedSearch(w);
    // kcp answers 404 to every GET of the Namespace for a while (the simulator's get-404 rule on namespaces).
    const realGet = w.kcp.get.bind(w.kcp);
    const faulty = jest
      .spyOn(w.kcp, 'get')
      .mockImplementation(async (n) => (n.resource === 'namespaces' ? undefined : realGet(n)));
    await expect(reconcilePlacement(w.deps, msg(inSearch('api')))).resolves.toMatchObject({ result: 'pending' });
    expect(await w.decisions.get(inSearch('api'))).toBeUndefined();
    expect(w.sync.drain()).toEqual([]);
    faulty.mockRestore();
    await expect(reconcilePlacement(w.deps, msg(inSearch('api')), 2)).resolves.toMatchObject({ result: 'placed' });
    expect((await w.decisions.get(inSearch('api')))?.clusters.map((c) => c.name)).toEqual(['east', 'west']);
  });

  it.each([
    ['absent', 'after the namespace went'],
    ['the old namespace', 'before the namespace was deleted'],
  ])('are placed by the new namespace when the container cached %s (read %s)', async (_cached, when) => {
    const w = await world();
    // The functions' policy source caches a Namespace (here for a minute, so the test does not race the clock).
    w.deps.policies = makePolicySource(w.deps.kube, w.deps.log, { ttlMs: 60_000 });
    await seedSearch(w);
    await reconcilePlacement(w.deps, msg(inSearch('api')));
    expect((await w.decisions.get(inSearch('api')))?.clusters.map((c) => c.name)).toEqual(['east', 'west']);

    if (when === 'before the namespace was deleted')
      expect((await w.deps.policies.namespace(WS, 'search'))?.metadata.uid).toBe('uid-search-1');
    // The namespace is deleted with what is in it: kcp reports both deletes.
    w.kcp.remove('apps', 'deployments', 'search', 'api');
    w.kcp.remove('', 'namespaces', undefined, 'search');
    // Another container takes the deletes (this one's cached Namespace stays as it was).
    const other: PlacementDeps = { ...w.deps, policies: makePolicySource(w.deps.kube, w.deps.log, { ttlMs: 60_000 }) };
    await reconcilePlacement(other, msg(inSearch('api'), 'delete'));
    await reconcilePlacement(other, { ...msg(nsRef, 'delete'), ref: { ...nsRef, uid: 'uid-search-1' } });
    expect(await w.decisions.get(nsRef)).toMatchObject({ reason: 'Deleted', clusters: [] });
    w.sync.drain();
    w.placement.drain();
    // Another message in this container looked the namespace up: the container caches what it saw.
    if (when === 'after the namespace went') expect(await w.deps.policies.namespace(WS, 'search')).toBeUndefined();

    // Re-created while kcp's webhook calls were lost: no message for the Namespace, only for what is created in it.
    w.kcp.put('', 'namespaces', searchNamespace('uid-search-2'));
    w.kcp.put('apps', 'deployments', searchDeployment('api', 'uid-api-2'));
    w.kcp.put('apps', 'deployments', searchDeployment('worker', 'uid-worker-2'));
    for (const name of ['api', 'worker']) await reconcilePlacement(w.deps, msg(inSearch(name)));
    expect(await w.decisions.get(nsRef)).toMatchObject({
      uid: 'uid-search-2',
      scheduled: true,
      clusters: [{ name: 'east' }, { name: 'west' }],
    });
    for (const name of ['api', 'worker']) {
      expect(await w.decisions.get(inSearch(name))).toMatchObject({ scheduled: true });
      expect((await w.decisions.get(inSearch(name)))?.clusters.map((c) => c.name)).toEqual(['east', 'west']);
    }
    expect(
      w.sync
        .drain()
        .map((m) => `${m.ref.name}:${m.action}:${m.cluster}`)
        .sort(),
    ).toEqual(['api:apply:east', 'api:apply:west', 'worker:apply:east', 'worker:apply:west']);
  });
});

describe('the decision item', () => {
  const WRITES = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand'];
  const writesIn = (commands: string[]): string[] =>
    commands.filter((c) => WRITES.includes(c) || c.startsWith('Transact'));

  /** The stored item's size as DynamoDB bills a write of it (bench/support/item-size.ts). */
  async function storedSize(w: World, ref: ObjectRef): Promise<number> {
    const out = await client.send(
      new GetItemCommand({
        TableName: w.tableName,
        Key: { pk: { S: objPk(ref) }, sk: { S: 'DECISION' } },
        ConsistentRead: true,
      }),
    );
    return itemSize(out.Item ?? {});
  }

  /** `count` clusters (`cluster-1` …) and a Placement that puts the default namespace on all of them, as the bench's. */
  async function everywhere(count: number): Promise<World> {
    const w = await world();
    const names = Array.from({ length: count }, (_, i) => `cluster-${i + 1}`);
    await registerClusters(w, ...names.map((name, i) => syncTarget(name, i % 2 ? 'us-west-2' : 'us-east-1')));
    w.kcp.put('scheduling.kcp.io', 'placements', {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'all' },
      spec: { replicas: { mode: 'Duplicated' } },
    });
    return w;
  }

  it.each([
    // [clusters, the item's bytes at most]
    [3, 1024],
    [50, 4096],
  ])('at %i clusters is stored in at most %i bytes and reads back as it was written', async (count, limit) => {
    const w = await everywhere(count);
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);
    const placed = await reconcilePlacement(w.deps, msg(depRef('web')));
    expect(placed).toMatchObject({ result: 'placed', messages: count });
    const written = 'decision' in placed ? placed.decision : undefined;
    const read = await w.decisions.get(depRef('web'));
    expect(read).toEqual(written);
    expect(formatExplanation(read!)).toBe(formatExplanation(written!));
    expect(read?.explanation).toHaveLength(count);
    expect(await storedSize(w, depRef('web'))).toBeLessThanOrEqual(limit);
  });

  it('is not written again for a decision that did not change, at 50 clusters', async () => {
    const w = await everywhere(50);
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);
    await reconcilePlacement(w.deps, msg(depRef('web')));
    w.sync.drain();
    // The first resync writes the object's state labels to kcp (no status refresh followed here); then nothing moves.
    await reconcilePlacement(w.deps, msg(depRef('web'), 'resync'));
    const before = await w.decisions.get(depRef('web'));
    const commands = await commandsDuring(async () => {
      for (const reason of ['resync', 'event', 'cluster-change'] as const)
        await expect(reconcilePlacement(w.deps, msg(depRef('web'), reason))).resolves.toMatchObject({
          result: 'unchanged',
          writes: 0,
          messages: 0,
        });
    });
    expect(commands.length).toBeGreaterThan(0);
    expect(writesIn(commands)).toEqual([]);
    expect(w.sync.sent).toHaveLength(0);
    expect(await w.decisions.get(depRef('web'))).toEqual(before);
  });
});

/**
 * kcp answers 404 to placement's write to an object it has just read (deleted in between, or an API hiccup): chaos
 * seed 1406 logged these as "Message failed unexpectedly" (a thrown NotFoundError), so the message waited out the
 * visibility timeout and spent a delivery towards the DLQ. The 404 is one read like a GET's: it takes the delete path
 * and its deletion gate, as an outcome.
 */
describe('an object gone between placement reading it and writing to it', () => {
  const guarded = (w: World, lines: Parameters<typeof memoryLog>[0]): PlacementDeps => {
    const log = memoryLog(lines);
    return {
      ...w.deps,
      log,
      deletionGuard: new DeletionGuard({
        store: new DynamoRecoveryStore(doc, w.tableName),
        metrics: noMetrics,
        log,
        now: w.deps.now,
      }),
    };
  };
  /** kcp answers the GET of `name` with the object, which a user deletes right after. */
  const deletedAfterRead = (w: World, resource: string, name: string, remove: () => void): void => {
    const get = w.kcp.get.bind(w.kcp);
    w.kcp.get = async (n) => {
      const read = await get(n);
      if (n.resource === resource && n.name === name) remove();
      return read;
    };
  };

  it('a 404 on the state-label write is deferred through the deletion gate, not thrown, and deletes no copy', async () => {
    const w = await world();
    const lines: Parameters<typeof memoryLog>[0] = [];
    const deps = guarded(w, lines);
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);
    await reconcilePlacement(deps, msg(depRef('web')));
    expect(summary(w.sync.drain())).toEqual(['apply:east']);

    // Asked again (a resync writes the state labels itself), and deleted in kcp between the read and that write.
    deletedAfterRead(w, 'deployments', 'web', () => w.kcp.remove('apps', 'deployments', 'default', 'web'));
    const deferred: Array<[string, number]> = [];
    const handler = makePlacementHandler({
      ...deps,
      rereadDelaysMs: [],
      deferrer: { defer: async (handle, seconds) => void deferred.push([handle, seconds]) },
    });
    const out = await handler({ Records: [build.sqsRecord('m1', msg(depRef('web'), 'resync'))] });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    // Read again after the vanished recheck, by its delay: not after the queue's visibility timeout as an error.
    expect(deferred).toEqual([['m1', VANISHED_RECHECK_SECONDS]]);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    // One 404 is no evidence of a delete: nothing is removed, the decision still places it.
    expect(w.sync.drain().filter((m) => m.action === 'delete')).toEqual([]);
    expect((await w.decisions.get(depRef('web')))?.clusters.map((c) => c.name)).toEqual(['east']);

    // kcp then reports the delete itself (positive evidence): removed from east.
    await expect(reconcilePlacement(deps, msg(depRef('web'), 'delete'))).resolves.toMatchObject({
      result: 'placed',
      messages: 1,
    });
    expect(summary(w.sync.drain())).toEqual(['delete:east']);
  });

  it("a 404 on a Namespace's label write skips the labels, never taken for its delete (that would un-place its objects)", async () => {
    const w = await world();
    const lines: Parameters<typeof memoryLog>[0] = [];
    const deps = guarded(w, lines);
    await registerClusters(w, syncTarget('east', 'us-east-1'));
    w.kcp.put('apps', 'deployments', deploymentObj('web') as never);
    // The namespace is placed (and labelled) before its first object: kcp answers 404 to that label write once.
    const patch = w.kcp.mergePatch.bind(w.kcp);
    let refused = 0;
    w.kcp.mergePatch = async (n, body) => {
      if (n.resource === 'namespaces' && refused++ === 0) throw new NotFoundError('namespace default was not found');
      return patch(n, body);
    };
    await expect(reconcilePlacement(deps, msg(depRef('web')))).resolves.toMatchObject({ result: 'placed' });
    expect(refused).toBe(1);
    expect(await w.decisions.get(build.ref(WS, build.TYPES.namespaces, 'default'))).toMatchObject({
      reason: 'Scheduled',
      clusters: [{ name: 'east' }],
    });
    expect(summary(w.sync.drain())).toEqual(['apply:east']);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it("a 404 on the release of tmc's finalizer is the object gone with it: done, not an error", async () => {
    const w = await world();
    const lines: Parameters<typeof memoryLog>[0] = [];
    const deps = guarded(w, lines);
    // Being deleted, placed nowhere, still holding tmc's finalizer; kcp lets it go right after placement reads it.
    const deleting = build.deployment('old', {
      metadata: { deletionTimestamp: new Date(NOW).toISOString(), finalizers: [SYNC_FINALIZER] },
    });
    w.kcp.put('apps', 'deployments', deleting as never);
    deletedAfterRead(w, 'deployments', 'old', () => w.kcp.remove('apps', 'deployments', 'default', 'old'));
    await expect(reconcilePlacement(deps, msg(depRef('old'), 'event'))).resolves.toMatchObject({
      result: 'absent',
      writes: 0,
      messages: 0,
    });
    expect(w.kcp.calls.mergePatch).toBe(1);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
