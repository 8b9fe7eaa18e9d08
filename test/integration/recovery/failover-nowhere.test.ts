import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { ClusterInventory } from '../../../lib/ports/cluster-inventory';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import { mirror, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const MINUTE = 60_000;
const ref: ObjectRef = {
  workspace: WS,
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'default',
  name: 'web',
};

/**
 * Failover with nowhere to go (issue 14, defect 7): placement keeps the workload on its evacuating cluster
 * (lib/placement/reconcile.ts, keepWhenNowhereToGo); the sweep keeps asking, says why, and never deletes the copy.
 */
describe('recovery sweep: a failover with nowhere to go', () => {
  let w: RecoveryWorld;

  beforeAll(async () => {
    w = await startRecoveryWorld();
    await new DynamoClusterInventory(w.world.doc, w.world.tableName).putMirror(mirror('east'));
  });
  afterAll(async () => {
    await w?.close();
  });
  afterEach(() => jest.restoreAllMocks());

  /** The inventory with `east` Unhealthy for an hour (past the default evictAfter of 5 minutes). */
  function sick(inventory: ClusterInventory): ClusterInventory {
    return new Proxy(inventory, {
      get(target, prop, receiver) {
        if (prop === 'list')
          return async (workspace: string) =>
            (await target.list(workspace)).map((c) => ({
              ...c,
              health: 'Unhealthy' as const,
              unhealthySince: w.clock.now - 60 * MINUTE,
            }));
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  async function received(url: string): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const got = await w.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!got.Messages?.length) return out;
      for (const m of got.Messages) {
        out.push(m.Body ?? '');
        await w.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
      }
    }
  }

  it('asks placement again with backoff, says the object stays, and sends no delete', async () => {
    // Full jitter's worst draw (a delay of 0 s): the backoff still holds the next ask for at least its base.
    jest.spyOn(Math, 'random').mockReturnValue(0);
    // What placement recorded when the failover found no other cluster: kept on east, unscheduled.
    await new DynamoDecisionStore(w.world.doc, w.world.tableName).put({
      ref,
      decisionVersion: 1,
      generation: 1,
      contentHash: 'h',
      clusters: [{ name: 'east', replicas: 2 }],
      scheduled: false,
      reason: 'Unschedulable',
      message:
        'No cluster to fail over to: kept on east until one fits. 0/1 clusters match: 1 unhealthy past evictAfter',
      explanation: [{ cluster: 'east', chosen: false, rejectedBy: 'health', total: 0 }],
      explanationOmitted: 0,
      weights: {},
      diff: { added: [], removed: [], changed: [], unchanged: ['east'] },
      decidedAt: new Date(w.clock.now - 10 * MINUTE).toISOString(),
    });
    const at = new Date(w.clock.now - 20 * MINUTE).toISOString();
    await w.world.syncState.put({
      ref,
      cluster: 'east',
      state: 'applied',
      decisionVersion: 1,
      appliedGeneration: 1,
      updatedAt: at,
      appliedAt: at,
    });
    const deps = { ...w.deps(), inventory: sick(w.deps().inventory) };

    expect((await runRecoverySweep(deps)).actions).toEqual({ 'failover:enqueued': 1 });
    const asked = (await received(w.queues.placement.url)).map(
      (b) => JSON.parse(b) as { reason: string; ref: ObjectRef },
    );
    expect(asked.map((m) => `${m.reason}:${m.ref.name}`)).toEqual(['failover:web']);
    expect(await received(w.queues.sync.url)).toEqual([]);
    const why = (await w.store.actions(new Date(w.clock.now).toISOString().slice(0, 10), 10)).find(
      (a) => a.action === 'failover',
    )?.why;
    expect(why).toBe(
      'SyncTarget east has been Unhealthy for longer than evictAfter (300s); no other cluster fits yet, so it stays on east: asking placement again',
    );
    expect(await w.store.pendingCleanups('east', 10)).toEqual([]); // the copy is not on its way out

    // Within the backoff: nothing asked, nothing deleted.
    w.clock.now += 59_000;
    expect((await runRecoverySweep(deps)).actions).toEqual({});
    expect(await received(w.queues.sync.url)).toEqual([]);
    // Past it: asked again, still no delete.
    w.clock.now += 2_000;
    expect((await runRecoverySweep(deps)).actions).toEqual({ 'failover:enqueued': 1 });
    expect((await received(w.queues.placement.url)).length).toBe(1);
    expect(await received(w.queues.sync.url)).toEqual([]);
  });
});
