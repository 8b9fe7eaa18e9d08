import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { clusterStatusAnnotation } from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { SqsVisibilityDeferrer } from '../../../lib/adapters/sqs/sqs-visibility-deferrer';
import { startEventSource, type EventSourceMapping } from '../../../lib/local/event-source';
import { createStackLogger } from '../../../lib/local/log';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { waitFor } from '../../support/wait';
import { refOf, syncMessage } from '../sync/world';
import { startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const MAX_RECEIVES = 2;
const MAX_REDRIVES = 3;

/**
 * Issue 6: "DLQ messages redriven with backoff and, after repeated failure, kept with their reason visible to users".
 * A sync message whose cluster answers 503 forever goes through the real path: sync-apply (via the local stack's SQS
 * event source) defers it until SQS dead-letters it at maxReceiveCount; the sweep redrives it with backoff, three
 * times; the fourth time it is kept in the DLQ, its reason on the sync item and the kcp object, never dropped.
 */
describe('dead letters: redrive with backoff, then kept with the reason visible', () => {
  let w: RecoveryWorld;
  let source: EventSourceMapping;
  let ref: ObjectRef;

  beforeAll(async () => {
    w = await startRecoveryWorld({ sync: { maxReceiveCount: MAX_RECEIVES } });
    const cm = w.kcp.store(WS).create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'default' },
      data: { mode: 'prod' },
    });
    ref = refOf(WS, cm, '', 'configmaps');
    await w.world.putDecision(ref, 1, [{ name: 'east' }]);
    // Deferred one second per failure, so a message reaches maxReceiveCount in a few real seconds.
    const syncApply = makeSyncApplyHandler({
      ...w.world.applyDeps(w.kube),
      backoff: { baseSeconds: 1, capSeconds: 1 },
      deferrer: new SqsVisibilityDeferrer(w.sqs, w.queues.sync.url),
    });
    source = startEventSource({
      sqs: w.sqs,
      queueUrl: w.queues.sync.url,
      queueArn: w.queues.sync.arn,
      region: 'us-east-1',
      name: 'sync → sync-apply',
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      maxConcurrency: 2,
      invoke: (event) => syncApply(event),
      logger: createStackLogger({ level: 'silent' }),
      waitTimeSeconds: 1,
    });
  });
  afterAll(async () => {
    await source?.stop();
    await w?.close();
  });

  const deadLettered = (): Promise<boolean> => w.counts(w.queues.sync.dlqUrl).then((c) => c.visible === 1);

  it('redrives three times with backoff, then keeps the message and shows why on the sync item and in kcp', async () => {
    w.east.faults.set({ errorRate: 1, errorCode: 503 });
    await w.sqs.send(
      new SendMessageCommand({ QueueUrl: w.queues.sync.url, MessageBody: JSON.stringify(syncMessage(ref, 'east', 1)) }),
    );
    const deps = w.deps({ maxRedrives: MAX_REDRIVES, redriveBackoff: { baseSeconds: 1, capSeconds: 1 } });

    for (let redrive = 1; redrive <= MAX_REDRIVES; redrive++) {
      await waitFor(`dead-lettered before redrive ${redrive}`, deadLettered, { timeoutMs: 20_000 });
      if (redrive > 1) {
        // Backoff: back in the DLQ before its next redrive is due (the clock has not moved) → hidden, not redriven.
        expect((await runRecoverySweep(deps)).actions).toEqual({});
        expect(await w.counts(w.queues.sync.dlqUrl)).toMatchObject({ visible: 0, hidden: 1 });
        w.clock.now += 60_000;
      }
      // fauxqs returns a hidden message only once its visibility ran out (1 s here): sweep until it is redriven.
      const report = await waitFor(
        `redrive ${redrive}`,
        async () => {
          const r = await runRecoverySweep(deps);
          return Object.keys(r.actions).length > 0 ? r : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 250 },
      );
      expect(report).toEqual({ actions: { 'dlq-redrive:enqueued': 1 }, failures: [] });
      // Back on its queue with a delay (SQS DelaySeconds), not at once.
      expect(await w.counts(w.queues.sync.dlqUrl)).toMatchObject({ visible: 0, hidden: 0 });
    }
    // Each receive cost east one request (discovery, refused first): maxReceiveCount per delivery, four deliveries.
    await waitFor('dead-lettered after the last redrive', deadLettered, { timeoutMs: 20_000 });
    expect(w.east.requests.count({ code: 503 })).toBe(MAX_RECEIVES * (MAX_REDRIVES + 1));

    w.clock.now += 60_000;
    const parked = await runRecoverySweep(deps);
    expect(parked).toEqual({ actions: { 'dlq-park:parked': 1 }, failures: [] });
    // Kept, not dropped: still in the DLQ, hidden for 12 hours at a time.
    expect(await w.counts(w.queues.sync.dlqUrl)).toMatchObject({ visible: 0, hidden: 1 });

    // The reason is on the sync item...
    const record = await w.world.syncState.get(ref, 'east');
    expect(record?.state).toBe('failed');
    expect(record?.lastError?.message).toMatch(
      /^tmc gave up on the apply of ConfigMap default\/settings on east after 3 redrive\(s\) from the sync DLQ: east answered 503/,
    );
    // ...on the kcp object, where `kubectl get -o yaml` shows it...
    const kcpObject = w.kcp.store(WS).get(CONFIGMAPS, 'default', 'settings');
    const shown = JSON.parse(kcpObject?.metadata.annotations?.[clusterStatusAnnotation(WS, 'east')] ?? '{}');
    expect(shown.conditions?.[0]).toMatchObject({ type: 'Synced', status: 'False' });
    expect(shown.conditions?.[0].message).toContain('tmc gave up');
    // ...and in the recovery actions, with the same reason.
    const day = new Date(w.clock.now).toISOString().slice(0, 10);
    const actions = await w.store.actions(day, 50);
    expect(actions.filter((a) => a.action === 'dlq-redrive')).toHaveLength(MAX_REDRIVES);
    expect(actions.find((a) => a.action === 'dlq-park')).toMatchObject({
      outcome: 'parked',
      cluster: 'east',
      ref: { name: 'settings' },
      why: record?.lastError?.message,
    });

    // A later sweep records nothing new: the kept message is hidden, not parked again (or redriven).
    w.clock.now += 60_000;
    expect((await runRecoverySweep(deps)).actions).toEqual({});
    expect(await w.counts(w.queues.sync.dlqUrl)).toMatchObject({ visible: 0, hidden: 1 });
  }, 90_000);

  it('a message naming an invalid workspace goes to the DLQ and is kept with the reason, with no request to kcp', async () => {
    w.east.faults.set({});
    const kcpRequests = w.kcp.requests.count();
    const eastRequests = w.east.requests.count();
    const bad = {
      ...syncMessage({ ...ref, name: 'escape' }, 'east', 1),
      ref: { ...ref, name: 'escape', workspace: '../../x' },
    };
    // Where SQS puts it after maxReceiveCount: sync-apply never handles it (test/unit/ingress/untrusted-input.test.ts).
    await w.sqs.send(new SendMessageCommand({ QueueUrl: w.queues.sync.dlqUrl, MessageBody: JSON.stringify(bad) }));
    await waitFor('dead-lettered', deadLettered, { timeoutMs: 20_000 });
    const deps = w.deps({ maxRedrives: MAX_REDRIVES, redriveBackoff: { baseSeconds: 1, capSeconds: 1 } });
    // Unreadable: kept at once (never redriven), its reason naming the field.
    const report = await waitFor(
      'parked',
      async () => {
        const r = await runRecoverySweep(deps);
        return Object.keys(r.actions).length > 0 ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250 },
    );
    expect(report).toEqual({ actions: { 'dlq-park:parked': 1 }, failures: [] });
    const day = new Date(w.clock.now).toISOString().slice(0, 10);
    const parked = (await w.store.actions(day, 50)).filter(
      (a) => a.action === 'dlq-park' && a.why.includes('unreadable'),
    );
    expect(parked).toEqual([
      expect.objectContaining({ why: expect.stringContaining('ref.workspace: must be a kcp logical cluster path') }),
    ]);
    // The sweep's own passes read WS; nothing reached kcp for the message or outside WS.
    expect(
      w.kcp.requests
        .entries()
        .slice(kcpRequests)
        .filter((r) => r.logicalCluster !== WS || r.name === 'escape'),
    ).toEqual([]);
    expect(
      w.east.requests
        .entries()
        .slice(eastRequests)
        .filter((r) => r.name === 'escape'),
    ).toEqual([]);
  }, 60_000);
});
