import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoRecoveryStore } from '../../../lib/adapters/dynamodb/recovery-store';
import type { PlacementMessage, SyncMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { ensureTable, startLocalDynamo } from '../../../lib/local/aws-services';
import { makePolicySource } from '../../../lib/placement/policy-source';
import { reconcilePlacement, VANISHED_RECHECK_SECONDS, type PlacementDeps } from '../../../lib/placement/reconcile';
import { noMetrics } from '../../../lib/ports/telemetry';
import { DeletionGuard } from '../../../lib/recovery/deletion-guard';
import { memoryLog } from '../../../lib/observability/log';
import { fakeConnector, FakeKcp, MemoryQueue } from './fake-kcp';

const WS = 'root:test';
const trace = { traceId: 't-1', enqueuedAt: new Date(0).toISOString() };
const depRef = (name: string): ObjectRef => ({
  workspace: WS,
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'default',
  name,
  uid: `uid-${name}`,
});

/**
 * Placement's path for an object that vanished from kcp without a deletionTimestamp (issue 14, defect 2): kcp answers
 * 404 to GETs while a user edits ten placed Deployments. No copy may be deleted on those 404s; only an absence the
 * recovery sweep confirmed (a complete read, again after a delay) lets placement remove the object.
 */
describe('placement: a 404 on a placed object is not evidence of its deletion', () => {
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
    await ensureTable(client, 'vanished');
  });
  afterAll(async () => {
    client.destroy();
    await stop();
  });

  it('keeps ten Deployments kcp answers 404 for, and removes one only after the sweep confirmed its absence', async () => {
    let now = Date.parse('2026-01-01T12:00:00Z');
    const kcp = new FakeKcp(); // holds none of them: every GET answers 404
    const decisions = new DynamoDecisionStore(doc, 'vanished');
    const recovery = new DynamoRecoveryStore(doc, 'vanished');
    const sync = new MemoryQueue<SyncMessage>('sync');
    const log = memoryLog();
    const deps: PlacementDeps = {
      kube: fakeConnector(kcp),
      decisions,
      inventory: new DynamoClusterInventory(doc, 'vanished'),
      policies: makePolicySource(fakeConnector(kcp), log),
      syncQueue: sync,
      placementQueue: new MemoryQueue<PlacementMessage>('placement'),
      log,
      metrics: noMetrics,
      now: () => now,
      deletionGuard: new DeletionGuard({ store: recovery, metrics: noMetrics, log, now: () => now }),
      contentKey: async () => Buffer.from('vanished-test-content-key-0123456789'),
    };
    const names = Array.from({ length: 10 }, (_, i) => `web-${i}`);
    for (const name of names) {
      await decisions.put({
        ref: depRef(name),
        decisionVersion: 1,
        generation: 1,
        uid: `uid-${name}`,
        contentHash: 'h',
        clusters: [{ name: 'east' }],
        scheduled: true,
        reason: 'Scheduled',
        message: 'placed on east',
        explanation: [],
        explanationOmitted: 0,
        weights: {},
        diff: { added: ['east'], removed: [], changed: [], unchanged: [] },
        decidedAt: new Date(now - 60_000).toISOString(),
      });
    }

    const getsBefore = kcp.calls.get;
    for (const name of names) {
      const outcome = await reconcilePlacement(deps, { type: 'placement', ref: depRef(name), reason: 'event', trace });
      // Retried later (the edit it stands for is not dropped), and nothing is removed meanwhile.
      expect(outcome).toMatchObject({ result: 'pending', messages: 0, delaySeconds: VANISHED_RECHECK_SECONDS });
    }
    // One GET each: a first delivery's quick re-reads (for a write kcp has not stored yet) cannot confirm an absence,
    // which only the sweep does, so they are not spent on it.
    expect(kcp.calls.get - getsBefore).toBe(names.length);
    expect(sync.sent).toEqual([]);
    expect((await decisions.get(depRef('web-0')))?.clusters).toEqual([{ name: 'east' }]);

    // The sweep found web-0 absent from a complete read, and again 60 s later: placement counts it with whatever else
    // vanishes at once, and removes it once it has waited to be counted.
    await recovery.putAbsence({ ref: depRef('web-0'), firstSeenAt: now - 60_000, confirmedAt: now });
    const resync: PlacementMessage = { type: 'placement', ref: depRef('web-0'), reason: 'resync', trace };
    await expect(reconcilePlacement(deps, resync)).resolves.toMatchObject({
      result: 'pending',
      messages: 0,
      delaySeconds: 16,
    });
    expect(sync.sent).toEqual([]);
    now += 16_000;
    const removed = await reconcilePlacement(deps, resync);
    expect(removed).toMatchObject({ result: 'placed', messages: 1 });
    expect(sync.sent.map((m) => [m.ref.name, m.cluster, m.action])).toEqual([['web-0', 'east', 'delete']]);

    // kcp itself reported the delete of web-1 (a DELETE admission or DELETED event, as for a kind kcp deletes without
    // waiting for tmc's finalizer): positive evidence, removed at once; one naming another uid is not.
    await expect(
      reconcilePlacement(deps, {
        type: 'placement',
        ref: { ...depRef('web-2'), uid: 'uid-other' },
        reason: 'delete',
        trace,
      }),
    ).resolves.toMatchObject({ result: 'pending', messages: 0 });
    const reported = await reconcilePlacement(deps, {
      type: 'placement',
      ref: depRef('web-1'),
      reason: 'delete',
      trace,
    });
    expect(reported).toMatchObject({ result: 'placed', messages: 1 });
    expect(sync.sent.map((m) => [m.ref.name, m.cluster, m.action])).toEqual([
      ['web-0', 'east', 'delete'],
      ['web-1', 'east', 'delete'],
    ]);
  });
});
