import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { trackIoRounds } from '../../../bench/support/io-rounds';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoHealthStore } from '../../../lib/adapters/dynamodb/health-store';
import { SqsQueueDepths } from '../../../lib/adapters/sqs/sqs-queue-depths';
import type { KubeObject } from '../../../lib/ports/kube-client';
import type { HealthState } from '../../../lib/health/cluster-health';
import { contentHash } from '../../../lib/placement/content-hash';
import type { RecoverySweepDeps } from '../../../lib/recovery/deps';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import type { QueueName } from '../../../lib/runtime/resources';
import { drainPlacement, mirror, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const MINUTE = 60_000;

/**
 * The sweep's quiet gate on dynalite, fauxqs and the simulated kcp: after a quiet full pass, a run whose SyncTargets,
 * kcp objects and queues are unchanged reads no page of sync items or decisions and no DLQ; anything the gate sees
 * changing (an object kcp stored without tmc hearing of it, a message on a queue, a cluster's health) or the
 * full-pass interval running out brings the full pass back, and with it the repair.
 */
describe('recovery sweep: quiet gate', () => {
  let w: RecoveryWorld;
  let health: DynamoHealthStore;
  let healthVersion = 0;
  const calls = { pages: 0, decisionPages: 0, dlqReceives: 0 };

  const setHealth = async (state: HealthState): Promise<void> => {
    healthVersion++;
    await health.putCluster(
      {
        cluster: 'east',
        workspace: WS,
        state,
        since: new Date(w.clock.now).toISOString(),
        reason: state,
        consecutiveFailures: 0,
        consecutiveSuccesses: 0,
        history: [],
        version: healthVersion,
      },
      healthVersion - 1,
    );
  };

  const deps = (settleSeconds = 10): RecoverySweepDeps => {
    // Settled 10 s after a change (the partial pass waits 5 s after a cluster's return).
    const base = w.deps({ settleSeconds, unplacedGraceSeconds: 600 });
    const depths = new SqsQueueDepths(
      w.sqs,
      (Object.keys(w.queues) as QueueName[]).map((name) => ({ name, url: w.queues[name].url })),
    );
    const syncState = Object.create(base.syncState) as RecoverySweepDeps['syncState'];
    syncState.listForCluster = (...args) => {
      calls.pages++;
      return base.syncState.listForCluster(...args);
    };
    const decisions = Object.create(base.decisions) as RecoverySweepDeps['decisions'];
    decisions.listVersions = (...args) => {
      calls.decisionPages++;
      return base.decisions.listVersions(...args);
    };
    decisions.listByWorkspace = (...args) => {
      calls.decisionPages++;
      return base.decisions.listByWorkspace(...args);
    };
    const deadLetters = base.deadLetters.map((dlq) => {
      const counted = Object.create(dlq) as typeof dlq;
      counted.receive = (...args) => {
        calls.dlqReceives++;
        return dlq.receive(...args);
      };
      return counted;
    });
    return { ...base, syncState, decisions, deadLetters, queueDepths: () => depths.queueDepths() };
  };

  /** One sweep; whether it made the full pass (read a page of sync items or decisions, or a DLQ). */
  const sweep = async (settleSeconds?: number): Promise<{ full: boolean; actions: Record<string, number> }> => {
    const before = { ...calls };
    const report = await runRecoverySweep(deps(settleSeconds));
    expect(report.failures).toEqual([]);
    const full =
      calls.pages > before.pages ||
      calls.decisionPages > before.decisionPages ||
      calls.dlqReceives > before.dlqReceives;
    return { full, actions: report.actions };
  };

  const create = (name: string): KubeObject =>
    w.kcp.store(WS).create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'default' },
      data: { k: name },
    });

  /** What placement records for an object no Placement selects. */
  const decideNowhere = async (object: KubeObject): Promise<void> =>
    new DynamoDecisionStore(w.world.doc, w.world.tableName).put({
      ref: { workspace: WS, ...CONFIGMAPS, kind: 'ConfigMap', namespace: 'default', name: object.metadata.name ?? '' },
      decisionVersion: 1,
      generation: typeof object.metadata.generation === 'number' ? object.metadata.generation : 0,
      resourceVersion: object.metadata.resourceVersion,
      uid: object.metadata.uid,
      contentHash: contentHash(object),
      clusters: [],
      scheduled: false,
      reason: 'NoMatchingPlacement',
      message: 'NoMatchingPlacement',
      explanation: [],
      explanationOmitted: 0,
      weights: {},
      diff: { added: [], removed: [], changed: [], unchanged: [] },
      decidedAt: new Date(w.clock.now).toISOString(),
    });

  beforeAll(async () => {
    w = await startRecoveryWorld();
    w.clock.now = Date.now();
    health = new DynamoHealthStore(w.world.doc, w.world.tableName);
    await new DynamoClusterInventory(w.world.doc, w.world.tableName).putMirror(mirror('east'));
    await setHealth('Healthy');
    // An object placed nowhere (its decision current): nothing for any pass to do.
    await decideNowhere(create('nowhere'));
  });
  afterAll(async () => {
    await w?.close();
  });

  it('makes the full pass first, then skips it while nothing changes', async () => {
    expect(await sweep()).toEqual({ full: true, actions: {} });
    w.clock.now += MINUTE;
    expect(await sweep()).toEqual({ full: true, actions: {} }); // the first pass ran within 10 s of the change
    w.clock.now += MINUTE;
    expect(await sweep()).toEqual({ full: false, actions: {} });
    w.clock.now += MINUTE;
    expect(await sweep()).toEqual({ full: false, actions: {} });
  });

  it('writes nothing to DynamoDB on a run that finds nothing changed, full pass or not', async () => {
    // An idle stack whose changes are not settled yet (a settle time longer than the test): every run is a full pass,
    // and what it found is what the one before found. Zero idle cost: no cursor or gate record is rewritten unchanged.
    const unsettled = 3600;
    await decideNowhere(create('idle'));
    w.clock.now += MINUTE;
    expect(await sweep(unsettled)).toEqual({ full: true, actions: {} }); // the change: recorded
    const writes = (): string[] =>
      w.world.dynamoRequests.filter((c) => /^(Put|Update|Delete|BatchWrite|TransactWrite)/.test(c));
    for (let run = 0; run < 2; run++) {
      const before = writes().length;
      w.clock.now += MINUTE;
      expect(await sweep(unsettled)).toEqual({ full: true, actions: {} });
      expect(writes().slice(before)).toEqual([]);
    }
    // Settled: one write records the quiet pass; the runs after it skip the full pass and write nothing.
    w.clock.now += MINUTE;
    expect(await sweep()).toEqual({ full: true, actions: {} });
    for (let run = 0; run < 2; run++) {
      const before = writes().length;
      w.clock.now += MINUTE;
      expect(await sweep()).toEqual({ full: false, actions: {} });
      expect(writes().slice(before)).toEqual([]);
    }
  });

  it("makes a skipped run's reads in one round of requests", async () => {
    // A Lambda run is billed by its wall time: the gate's reads (SyncTargets, cursor, kcp's lists, queue depths, the
    // holds) wait for each other in no way, so an idle run waits for one round trip, not one per read.
    w.clock.now += MINUTE;
    const tracker = trackIoRounds();
    const { full } = await sweep();
    const io = tracker.stop();
    expect(full).toBe(false);
    expect(io.rounds).toEqual([['dynamodb', 'kubernetes', 'sqs']]);
  });

  it('makes the full pass again when kcp stored an object tmc never heard of, and asks placement about it', async () => {
    const lost = create('lost');
    expect(await sweep()).toEqual({ full: true, actions: {} }); // within the grace period: left to its admission
    w.clock.now += 11 * MINUTE;
    expect(await sweep()).toEqual({ full: true, actions: { 'resync-unplaced:enqueued': 1 } });
    expect((await drainPlacement(w)).map((m) => m.message.ref.name)).toEqual(['lost']);
    await decideNowhere(lost); // what placement does with the message
    w.clock.now += MINUTE;
    expect(await sweep()).toEqual({ full: true, actions: {} }); // the pass before acted
    w.clock.now += MINUTE;
    expect(await sweep()).toEqual({ full: false, actions: {} });
  });

  it('makes the full pass while a queue holds a message', async () => {
    await w.sqs.send(new SendMessageCommand({ QueueUrl: w.queues.sync.url, MessageBody: '{}' }));
    w.clock.now += MINUTE;
    expect((await sweep()).full).toBe(true);
  });

  it('makes the full pass when a cluster is not Healthy, and at least every fullPassSeconds', async () => {
    const { sqs, queues } = w;
    for (;;) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.sync.url, MaxNumberOfMessages: 10 }));
      if (!out.Messages?.length) break;
      for (const m of out.Messages)
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.sync.url, ReceiptHandle: m.ReceiptHandle }));
    }
    w.clock.now += MINUTE;
    await sweep();
    w.clock.now += MINUTE;
    expect((await sweep()).full).toBe(false);
    await setHealth('Degraded');
    w.clock.now += MINUTE;
    expect((await sweep()).full).toBe(true);
    await setHealth('Healthy');
    w.clock.now += MINUTE;
    await sweep();
    w.clock.now += MINUTE;
    await sweep();
    w.clock.now += MINUTE;
    expect((await sweep()).full).toBe(false);
    w.clock.now += 30 * MINUTE;
    expect((await sweep()).full).toBe(true);
    w.clock.now += MINUTE;
    expect((await sweep()).full).toBe(false);
  });
});
