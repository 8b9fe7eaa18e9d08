import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { clusterStatusAnnotation, downstreamNamespace } from '../../../lib/api/labels';
import type { StatusMessage } from '../../../lib/api/messages';
import { DynamoObjectSnapshotReader } from '../../../lib/adapters/dynamodb/object-snapshot-reader';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import { objectKey } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { snapshotFromStores } from '../../../lib/ports/object-snapshot';
import { makeStatusUpHandler } from '../../../lib/runtime/status-up';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { makeStatusReporter } from '../../../lib/sync/status/report-status';
import { runStatusBackstop } from '../../../lib/sync/status/status-up';
import { FakeConnector } from './fake-kube';
import { countsSince, refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from './world';

const WS = 'root:snapshot';
const CLUSTERS = ['east', 'west', 'north'];
const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', uid: 'uid-web', generation: 1, resourceVersion: '100' },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
};
const ready = { observedGeneration: 1, replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1 };

/**
 * A status refresh reads the object's decision, sync records and statuses in one Query of its partition; the backstop
 * reads a cluster's stored statuses in one BatchGetItem.
 */
describe('status reads (dynalite)', () => {
  let world: SyncWorld;
  let kube: FakeConnector;
  const ref = refOf(WS, deployment, 'apps', 'deployments');
  const other = { ...ref, name: 'web-2' }; // its key starts with ref's: a prefix must not leak into ref's read
  const message = (cluster: string, resourceVersion: string): StatusMessage => ({
    type: 'status',
    ref,
    cluster,
    resourceVersion,
    status: ready,
    trace: { traceId: 't', enqueuedAt: new Date().toISOString() },
  });

  beforeEach(async () => {
    world = await startSyncWorld();
    kube = new FakeConnector();
    kube.kcpOf(WS).put('deployments', deployment);
    await world.putDecision(
      ref,
      1,
      CLUSTERS.map((name) => ({ name, replicas: 1 })),
    );
  });
  afterEach(async () => world.close());

  /** Applies ref on every cluster through sync-apply, without a status refresh (the tests count their own). */
  async function applyEverywhere(): Promise<void> {
    const handler = makeSyncApplyHandler({ ...world.applyDeps(kube), status: undefined });
    expect(
      (await handler(sqsEvent(CLUSTERS.map((c) => syncMessage(ref, c, 1, { object: deployment }))))).batchItemFailures,
    ).toEqual([]);
  }

  it('reads what the three store reads do, and nothing of other objects or the explanation', async () => {
    await applyEverywhere();
    const statuses = new DynamoStatusStore({ doc: world.doc, tableName: world.tableName });
    const at = new Date().toISOString();
    for (const [i, cluster] of CLUSTERS.entries())
      await statuses.put({ ref, cluster, status: ready, resourceVersion: String(10 + i), observedAt: at });
    // Placement's full item: the explanation and diff are not what status reads.
    await world.doc.send(
      new PutCommand({
        TableName: world.tableName,
        Item: {
          pk: `OBJ#${objectKey(ref)}`,
          sk: 'DECISION',
          decisionVersion: 2,
          clusters: CLUSTERS.map((name) => ({ name, replicas: 1 })),
          explanation: CLUSTERS.map((cluster) => ({ cluster, chosen: true, total: 1, detail: 'x'.repeat(2000) })),
          diff: { added: [], removed: [], changed: [], unchanged: CLUSTERS },
        },
      }),
    );
    await world.putDecision(other, 1, [{ name: 'east' }]);
    await statuses.put({ ref: other, cluster: 'east', status: ready, resourceVersion: '1', observedAt: at });
    const responses: Array<Record<string, unknown>> = [];
    world.doc.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        responses.push(...((out.output as { Items?: Array<Record<string, unknown>> }).Items ?? []));
        return out;
      },
      { step: 'initialize', name: 'keepItems' },
    );

    const from = world.dynamoRequests.length;
    const snapshot = await world.snapshot.read(ref);
    expect(world.dynamoRequests.slice(from)).toEqual(['QueryCommand']);
    expect(responses.map((item) => item.sk)).toEqual([
      'DECISION',
      'STATUS#east',
      'STATUS#north',
      'STATUS#west',
      'SYNC#east',
      'SYNC#north',
      'SYNC#west',
    ]);
    expect(responses.some((item) => 'explanation' in item || 'diff' in item)).toBe(false);

    const threeReads = await snapshotFromStores(world.syncState, statuses).read(ref);
    const byCluster = <T extends { cluster: string }>(items: T[]): T[] =>
      [...items].sort((a, b) => a.cluster.localeCompare(b.cluster));
    expect(snapshot.decision).toEqual({
      decisionVersion: 2,
      clusters: CLUSTERS.map((name) => ({ name, replicas: 1 })),
    });
    expect(snapshot.decision).toEqual(threeReads.decision);
    expect(byCluster(snapshot.syncRecords)).toEqual(byCluster(threeReads.syncRecords));
    expect(byCluster(snapshot.statuses)).toEqual(byCluster(threeReads.statuses));
    expect(snapshot.syncRecords).toHaveLength(3);
    expect(snapshot.statuses).toHaveLength(3);
  });

  it('an object with nothing stored reads as empty; a partition over one page is read to its end', async () => {
    expect(await world.snapshot.read({ ...ref, name: 'absent' })).toEqual({
      decision: undefined,
      syncRecords: [],
      statuses: [],
    });
    // DynamoDB answers at most 1 MB a page: four statuses of 300 KB take two pages.
    const statuses = new DynamoStatusStore({ doc: world.doc, tableName: world.tableName });
    const big = { note: 'x'.repeat(300 * 1024) };
    for (const cluster of ['a', 'b', 'c', 'd'])
      await statuses.put({ ref, cluster, status: big, resourceVersion: '1', observedAt: new Date().toISOString() });
    const from = world.dynamoRequests.length;
    const snapshot = await new DynamoObjectSnapshotReader({ doc: world.doc, tableName: world.tableName }).read(ref);
    expect(world.dynamoRequests.slice(from).length).toBeGreaterThan(1);
    expect(snapshot.statuses.map((s) => s.cluster).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(snapshot.decision?.clusters.map((c) => c.name)).toEqual(CLUSTERS);
  });

  it('a status message costs one conditional put and one Query, and kcp shows the aggregate', async () => {
    await applyEverywhere();
    const handler = makeStatusUpHandler(world.statusDeps(kube));
    const from = world.dynamoRequests.length;
    // One batch with every cluster's status: one put per cluster, then one refresh for the object.
    expect(await handler(sqsEvent(CLUSTERS.map((c) => message(c, '20'))))).toEqual({ batchItemFailures: [] });
    // Three separate reads a refresh made this { PutItemCommand: 3, GetItemCommand: 1, QueryCommand: 2 }.
    expect(countsSince(world, from)).toEqual({ PutItemCommand: 3, QueryCommand: 1 });
    const status = kube.kcpOf(WS).find('deployments', 'default', 'web')?.status as Record<string, unknown>;
    expect(status).toMatchObject({ readyReplicas: 3, observedGeneration: 1 });
  });

  it('sync-apply refreshes the object once after its batch with one Query', async () => {
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    const from = world.dynamoRequests.length;
    expect(
      (await handler(sqsEvent(CLUSTERS.map((c) => syncMessage(ref, c, 1, { object: deployment }))))).batchItemFailures,
    ).toEqual([]);
    // The batch's own reads are one BatchGetItem; everything else read is the refresh's.
    expect(countsSince(world, from)).toMatchObject({ BatchGetItemCommand: 1, QueryCommand: 1 });
    expect(countsSince(world, from).GetItemCommand).toBeUndefined();
    const annotations = kube.kcpOf(WS).find('deployments', 'default', 'web')?.metadata.annotations ?? {};
    for (const c of CLUSTERS)
      expect(JSON.parse(annotations[clusterStatusAnnotation(WS, c)] ?? '{}')).toMatchObject({
        cluster: c,
        state: 'applied',
      });
  });

  it('the backstop compares the objects of a cluster with what is stored in one BatchGetItem, not a GetItem each', async () => {
    const refs = [ref, other, { ...ref, name: 'web-3' }];
    for (const r of refs)
      kube.kcpOf(WS).put('deployments', {
        ...deployment,
        metadata: { ...deployment.metadata, name: r.name, uid: `uid-${r.name}` },
      });
    for (const r of refs.slice(1))
      await world.putDecision(
        r,
        1,
        CLUSTERS.map((name) => ({ name, replicas: 1 })),
      );
    const apply = makeSyncApplyHandler({ ...world.applyDeps(kube), status: undefined });
    const objects = refs.map((r) => kube.kcpOf(WS).find('deployments', 'default', r.name) as KubeObject);
    const messages = objects.flatMap((object, i) => CLUSTERS.map((c) => syncMessage(refs[i], c, 1, { object })));
    expect((await apply(sqsEvent(messages))).batchItemFailures).toEqual([]);
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      for (const r of refs) {
        const downstream = kube
          .clusterOf(c)
          .find('deployments', downstreamNamespace(WS, 'default'), r.name) as KubeObject;
        kube.clusterOf(c).put('deployments', { ...downstream, status: ready });
      }
    }
    const deps = world.statusDeps(kube);
    // Per cluster: the namespace and the three Deployments.
    expect(await runStatusBackstop(deps)).toMatchObject({ clusters: 3, polled: 12, failed: 0 });
    expect(kube.kcpOf(WS).find('deployments', 'default', 'web-3')?.status).toMatchObject({ readyReplicas: 3 });
    const from = world.dynamoRequests.length;
    expect(await runStatusBackstop(deps)).toMatchObject({ clusters: 3, polled: 12, written: 0, failed: 0 });
    // The SyncTarget mirror and each cluster's sync items (Queries), then one BatchGetItem per cluster for its objects.
    // It was a GetItem per Deployment and cluster: { QueryCommand: 4, GetItemCommand: 9 }.
    expect(countsSince(world, from)).toEqual({ QueryCommand: 4, BatchGetItemCommand: 3 });
  });

  it('the reporter on the stores alone reads the same state in three requests', async () => {
    await applyEverywhere();
    const statusStore = new DynamoStatusStore({ doc: world.doc, tableName: world.tableName });
    const reporter = makeStatusReporter({ kube, syncState: world.syncState, statusStore });
    const from = world.dynamoRequests.length;
    expect(await reporter.refresh(ref)).toEqual({ annotations: true, status: true });
    expect(countsSince(world, from)).toEqual({ GetItemCommand: 1, QueryCommand: 2 });
  });
});
