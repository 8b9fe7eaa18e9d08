import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoHealthStore } from '../../../lib/adapters/dynamodb/health-store';
import { SqsQueueDepths } from '../../../lib/adapters/sqs/sqs-queue-depths';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { contentHash } from '../../../lib/placement/content-hash';
import type { KubeObject } from '../../../lib/ports/kube-client';
import type { RecoverySweepDeps } from '../../../lib/recovery/deps';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import type { QueueName } from '../../../lib/runtime/resources';
import { storedDecision } from '../../support/builders';
import { drainSync, mirror, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const MINUTE = 60_000;
/** Thirteen objects, four a page: every paged pass needs four runs to go round. */
const NAMES = Array.from({ length: 13 }, (_, i) => `cm-${String(i).padStart(2, '0')}`);
const PAGE = 4;

/**
 * The quiet gate on a stack larger than one page of each pass (dynalite, fauxqs, the simulated kcp). On main such a
 * stack made the full pass every run, whatever changed: 21 DynamoDB requests a run here, 580 on the bench's 2,000
 * objects × 3 clusters. Now the runs after the pages went round once, settled, read only the gate's items.
 */
describe('recovery sweep: a settled stack larger than a page', () => {
  let w: RecoveryWorld;

  const deps = (): RecoverySweepDeps => {
    const base = w.deps({
      settleSeconds: 10,
      unplacedGraceSeconds: 600,
      perClusterLimit: PAGE,
      unsyncedDecisionLimit: PAGE,
      unplacedDecisionLimit: PAGE,
      // No drift samples: the copies tmc "applied" here are records only (drift has its own tests, and a full pass).
      driftSamples: 0,
    });
    const depths = new SqsQueueDepths(
      w.sqs,
      (Object.keys(w.queues) as QueueName[]).map((name) => ({ name, url: w.queues[name].url })),
    );
    return { ...base, queueDepths: () => depths.queueDepths() };
  };

  /** One sweep a minute after the last: its actions and the DynamoDB requests it made. */
  const sweep = async (): Promise<{ actions: Record<string, number>; requests: string[] }> => {
    w.clock.now += MINUTE;
    const before = w.world.dynamoRequests.length;
    const report = await runRecoverySweep(deps());
    expect(report.failures).toEqual([]);
    return { actions: report.actions, requests: w.world.dynamoRequests.slice(before) };
  };
  /** A run that read a page of sync items or decisions: the full pass. */
  const full = (requests: string[]): boolean => requests.includes('BatchGetItemCommand');

  const refOf = (name: string): ObjectRef => ({
    workspace: WS,
    ...CONFIGMAPS,
    kind: 'ConfigMap',
    namespace: 'default',
    name,
  });

  /** What sync-apply records for a copy applied on east. */
  const applied = async (object: KubeObject): Promise<void> =>
    w.world.syncState.put({
      ref: refOf(object.metadata.name ?? ''),
      cluster: 'east',
      state: 'applied',
      decisionVersion: 1,
      appliedGeneration: typeof object.metadata.generation === 'number' ? object.metadata.generation : 0,
      appliedHash: 'applied',
      updatedAt: new Date(w.clock.now).toISOString(),
    });

  const objects = new Map<string, KubeObject>();

  beforeAll(async () => {
    w = await startRecoveryWorld();
    w.clock.now = Date.now();
    await new DynamoClusterInventory(w.world.doc, w.world.tableName).putMirror(mirror('east'));
    await new DynamoHealthStore(w.world.doc, w.world.tableName).putCluster(
      {
        cluster: 'east',
        workspace: WS,
        state: 'Healthy',
        since: new Date(w.clock.now).toISOString(),
        reason: 'Healthy',
        consecutiveFailures: 0,
        consecutiveSuccesses: 0,
        history: [],
        version: 1,
      },
      0,
    );
    const decisions = new DynamoDecisionStore(w.world.doc, w.world.tableName);
    for (const name of NAMES) {
      const object = w.kcp.store(WS).create(CONFIGMAPS, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'default' },
        data: { k: name },
      });
      objects.set(name, object);
      // Placed on east and applied there: every pass finds it in order.
      await decisions.put(
        storedDecision(refOf(name), ['east'], {
          generation: typeof object.metadata.generation === 'number' ? object.metadata.generation : 0,
          resourceVersion: object.metadata.resourceVersion,
          uid: object.metadata.uid,
          contentHash: contentHash(object),
          decidedAt: new Date(w.clock.now - 10 * MINUTE).toISOString(),
        }),
      );
      // Except the last in key order: its sync message was lost, so it has no sync item (a gap only the last page of
      // the anti-entropy pass sees).
      if (name !== NAMES[NAMES.length - 1]) await applied(object);
    }
  });
  afterAll(async () => {
    await w?.close();
  });

  it('repairs a gap on its last page before any run skips, then skips once every page went round', async () => {
    // Nothing the gate sees changes: the runs are full passes until the pages went round, and one of them finds the
    // lost sync message of the last object (seen skipping before it with a gate that ignored the pages' rotation).
    const runs: Array<{ full: boolean; actions: Record<string, number> }> = [];
    for (let i = 0; i < 16; i++) {
      const { actions, requests } = await sweep();
      runs.push({ full: full(requests), actions });
      if (Object.keys(actions).length > 0) {
        expect(runs.some((r) => !r.full)).toBe(false);
        expect(actions).toEqual({ 'resync-unsynced:enqueued': 1 });
        expect(await drainSync(w)).toEqual([`apply:${NAMES[NAMES.length - 1]}:east:1`]);
        await applied(objects.get(NAMES[NAMES.length - 1]) as KubeObject); // what sync-apply does with it
      }
    }
    expect(runs.flatMap((r) => Object.keys(r.actions))).toEqual(['resync-unsynced:enqueued']);
    // After the repair: a pass within the settle time, then at most two rotations of four runs, then skipped runs.
    const afterRepair = runs.slice(runs.findIndex((r) => Object.keys(r.actions).length > 0) + 1);
    const firstSkip = afterRepair.findIndex((r) => !r.full);
    expect(firstSkip).toBeGreaterThan(0);
    expect(firstSkip).toBeLessThanOrEqual(1 + 2 * Math.ceil(NAMES.length / PAGE));
    expect(afterRepair.slice(firstSkip).every((r) => !r.full)).toBe(true);
  });

  it('makes a settled run read only the gate: its requests do not grow with the objects held', async () => {
    const { requests } = await sweep();
    // The held admissions, the SyncTargets (two queries), the gate's cursor item and the holds. On main: the full
    // pass (pages of sync items and decisions, the batch reads of their pairs, cursors), 21 requests here.
    expect([...requests].sort()).toEqual([
      'GetItemCommand',
      'QueryCommand',
      'QueryCommand',
      'QueryCommand',
      'QueryCommand',
    ]);
  });

  it('makes the full passes again at fullPassSeconds, until the pages went round, then skips', async () => {
    w.clock.now += 30 * MINUTE;
    const fulls: boolean[] = [];
    for (let i = 0; i < 12; i++) fulls.push(full((await sweep()).requests));
    const firstSkip = fulls.indexOf(false);
    expect(firstSkip).toBeGreaterThanOrEqual(Math.ceil(NAMES.length / PAGE));
    expect(firstSkip).toBeLessThanOrEqual(2 * Math.ceil(NAMES.length / PAGE));
    expect(fulls.slice(firstSkip).every((f) => !f)).toBe(true);
  });
});
