import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { SyncMessageSchema } from '../../../lib/api/messages';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import type { SyncRecord } from '../../../lib/ports/sync-state-store';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import { mirror, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const MINUTE = 60_000;

function configMap(name: string, workspace = WS): ObjectRef {
  return { workspace, group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name };
}

function failedRecord(ref: ObjectRef, cluster: string, updatedAt: string): SyncRecord {
  return {
    ref,
    cluster,
    state: 'failed',
    decisionVersion: 1,
    appliedGeneration: 0,
    lastError: {
      category: 'cluster-unavailable',
      message: `${cluster} answered 503`,
      hint: 'tmc backs off and retries',
      at: updatedAt,
    },
    updatedAt,
  };
}

/**
 * Stuck syncs (desired ≠ applied past the threshold) on dynalite + fauxqs: re-enqueued to the real sync queue with
 * per-pair backoff; and a cluster with more sync items than one sweep reads is covered over successive sweeps by the
 * cursor kept in DynamoDB.
 */
describe('recovery sweep: stuck syncs and the per-cluster cursor', () => {
  let w: RecoveryWorld;

  beforeAll(async () => {
    w = await startRecoveryWorld();
    await new DynamoClusterInventory(w.world.doc, w.world.tableName).putMirror(mirror('east'));
  });
  afterAll(async () => {
    await w?.close();
  });

  /** Drains the sync queue: the names of the objects the sweep re-sent. */
  async function resent(): Promise<string[]> {
    const names: string[] = [];
    for (;;) {
      const out = await w.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: w.queues.sync.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!out.Messages?.length) return names.sort();
      for (const m of out.Messages) {
        const message = SyncMessageSchema.parse(JSON.parse(m.Body ?? ''));
        expect(message).toMatchObject({ type: 'sync', cluster: 'east', action: 'apply', decisionVersion: 1 });
        names.push(message.ref.name);
        await w.sqs.send(new DeleteMessageCommand({ QueueUrl: w.queues.sync.url, ReceiptHandle: m.ReceiptHandle }));
      }
    }
  }

  async function seed(names: string[], updatedAt: string): Promise<void> {
    for (const name of names) {
      await w.world.putDecision(configMap(name), 1, [{ name: 'east' }]);
      await w.world.syncState.put(failedRecord(configMap(name), 'east', updatedAt));
    }
  }

  it('re-enqueues a sync failed past the threshold, with backoff, and leaves a fresh failure and a non-retryable one alone', async () => {
    const stuckSince = new Date(w.clock.now - 10 * MINUTE).toISOString();
    await seed(['stuck'], stuckSince);
    await seed(['fresh'], new Date(w.clock.now - MINUTE).toISOString());
    await w.world.putDecision(configMap('invalid'), 1, [{ name: 'east' }]);
    await w.world.syncState.put({
      ...failedRecord(configMap('invalid'), 'east', stuckSince),
      lastError: {
        category: 'resource-validation',
        message: 'spec.x: Invalid value',
        hint: 'fix the object',
        at: stuckSince,
      },
    });
    const deps = w.deps({ stuckAfterSeconds: 300 });
    // Full jitter drawing 0 s (1 time in 61) must still wait the base: else the next sweep would send it again.
    const random = jest.spyOn(Math, 'random').mockReturnValue(0);

    expect((await runRecoverySweep(deps)).actions).toEqual({ 'resync-stuck:enqueued': 1 });
    random.mockRestore();
    expect(await resent()).toEqual(['stuck']);
    // Backoff: the next sweeps within the delay send nothing, though the item is still failed.
    expect((await runRecoverySweep(deps)).actions).toEqual({});
    expect(await resent()).toEqual([]);
    const retry = await w.store.retryState(`stuck|east|${objectKey(configMap('stuck'))}`);
    expect(retry).toMatchObject({ attempts: 1 });
    // Past the delay (at most 60 s for the first retry): sent again, and the delay grows (second attempt).
    w.clock.now += MINUTE + 1;
    expect((await runRecoverySweep(deps)).actions).toEqual({ 'resync-stuck:enqueued': 1 });
    expect(await resent()).toEqual(['stuck']);
    expect(await w.store.retryState(`stuck|east|${objectKey(configMap('stuck'))}`)).toMatchObject({ attempts: 2 });
    expect(await w.store.sweepCursor(`sweep|${WS}|east`)).toBeUndefined(); // one page holds all: no cursor
    for (const name of ['stuck', 'fresh', 'invalid'])
      await w.world.syncState.put({
        ...failedRecord(configMap(name), 'east', stuckSince),
        state: 'applied',
        decisionVersion: 2,
        lastError: undefined,
      });
  });

  it('visits every sync item of a cluster over successive sweeps when it has more than one sweep reads', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `item-${String(i).padStart(2, '0')}`);
    await seed(names, new Date(w.clock.now - 10 * MINUTE).toISOString());
    const deps = w.deps({ perClusterLimit: 4, stuckAfterSeconds: 300 });
    const cursor = (): Promise<string | undefined> => w.store.sweepCursor(`sweep|${WS}|east`);

    // 15 items on east in object-key order: fresh, invalid, item-00 … item-11, stuck (the first test's three are
    // applied now). Four a run, each run going on where the last one stopped.
    await runRecoverySweep(deps);
    expect(await resent()).toEqual(['item-00', 'item-01']);
    expect(await cursor()).toBe(objectKey(configMap('item-01')));
    await runRecoverySweep(deps);
    expect(await resent()).toEqual(['item-02', 'item-03', 'item-04', 'item-05']);
    await runRecoverySweep(deps);
    expect(await resent()).toEqual(['item-06', 'item-07', 'item-08', 'item-09']);
    // The end (item-10, item-11, stuck): the rest of the run is filled from the start (fresh) and the cursor wraps.
    await runRecoverySweep(deps);
    expect(await resent()).toEqual(['item-10', 'item-11']);
    expect(await cursor()).toBe(objectKey(configMap('fresh')));

    // Every item was examined once; after their backoff the rotation goes on from the wrapped cursor.
    w.clock.now += 2 * MINUTE;
    await runRecoverySweep(deps);
    expect(await resent()).toEqual(['item-00', 'item-01', 'item-02']);
    expect(await cursor()).toBe(objectKey(configMap('item-02')));
  });
});
