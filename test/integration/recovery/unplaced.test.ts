import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoSeenStore } from '../../../lib/adapters/dynamodb/seen-store';
import { SqsQueueDepths } from '../../../lib/adapters/sqs/sqs-queue-depths';
import { SYNC_FINALIZER } from '../../../lib/api/labels';
import { placementFingerprint } from '../../../lib/ingress/fingerprint';
import type { RecoverySweepDeps } from '../../../lib/recovery/deps';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import { contentHash } from '../../../lib/placement/content-hash';
import type { KubeObject } from '../../../lib/ports/kube-client';
import type { DecisionReason } from '../../../lib/placement/types';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import { drainPlacement, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const MINUTE = 60_000;

const refOf = (o: KubeObject): ObjectRef => ({
  workspace: WS,
  ...CONFIGMAPS,
  kind: 'ConfigMap',
  namespace: 'default',
  name: o.metadata.name ?? '',
  uid: o.metadata.uid,
});

/** Writes the decision placement makes for `object` (version 1). */
async function decideOn(
  decisions: DynamoDecisionStore,
  object: KubeObject,
  reason: DecisionReason,
  clusters: string[],
): Promise<void> {
  await decisions.put({
    ref: refOf(object),
    decisionVersion: 1,
    generation: typeof object.metadata.generation === 'number' ? object.metadata.generation : 0,
    resourceVersion: object.metadata.resourceVersion,
    uid: object.metadata.uid,
    contentHash: contentHash(object),
    clusters: clusters.map((name) => ({ name })),
    scheduled: clusters.length > 0,
    reason,
    message: reason,
    explanation: [],
    explanationOmitted: 0,
    weights: {},
    diff: { added: clusters, removed: [], changed: [], unchanged: [] },
    decidedAt: new Date().toISOString(),
  });
}

/**
 * The unplaced pass on dynalite, fauxqs and the simulated kcp (no webhooks there: every write is one whose admission
 * was lost). Only objects placement never saw in their current version get a placement message: not a placed,
 * unchanged one, not one placed nowhere (its NoMatchingPlacement decision is current), not one written within the
 * grace period. Messages are counted on the real placement queue.
 */
describe('recovery sweep: objects kcp stored without a placement message', () => {
  let w: RecoveryWorld;
  let decisions: DynamoDecisionStore;
  let written: number;

  beforeAll(async () => {
    w = await startRecoveryWorld();
    decisions = new DynamoDecisionStore(w.world.doc, w.world.tableName);
    const kcp = await w.kube.kcp(WS);
    const create = async (name: string): Promise<KubeObject> =>
      w.kcp.store(WS).create(CONFIGMAPS, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'default' },
        data: { k: name },
      });
    const decide = (object: KubeObject, reason: DecisionReason, clusters: string[]): Promise<void> =>
      decideOn(decisions, object, reason, clusters);
    await decide(await create('placed'), 'Scheduled', ['east']);
    await decide(await create('nowhere'), 'NoMatchingPlacement', []);
    await decide(await create('changed'), 'Scheduled', ['east']);
    await create('lost');
    // An UPDATE whose message was lost: kcp holds new data, the decision the old.
    await kcp.mergePatch({ ...CONFIGMAPS, namespace: 'default', name: 'changed' }, { data: { k: 'new' } });
    written = Date.now();
  });
  afterAll(async () => {
    await w?.close();
  });

  /** Drains the placement queue: the names of the objects the sweep asked placement about. */
  async function asked(): Promise<string[]> {
    const drained = await drainPlacement(w);
    for (const { message } of drained) expect(message).toMatchObject({ type: 'placement', reason: 'resync' });
    return drained.map(({ message }) => message.ref.name).sort();
  }

  it('leaves objects written within the grace period to their admission message', async () => {
    w.clock.now = written + 30_000;
    const report = await runRecoverySweep(w.deps());
    expect(report.failures).toEqual([]);
    expect(report.actions).toEqual({});
    expect(await asked()).toEqual([]);
  });

  it('asks placement about the lost CREATE and the lost UPDATE only', async () => {
    w.clock.now = written + 5 * MINUTE;
    const report = await runRecoverySweep(w.deps());
    expect(report.failures).toEqual([]);
    expect(report.actions).toEqual({ 'resync-unplaced:enqueued': 2 });
    expect(await asked()).toEqual(['changed', 'lost']);
    const day = new Date(w.clock.now).toISOString().slice(0, 10);
    const logged = (await w.store.actions(day, 10)).filter((a) => a.action === 'resync-unplaced');
    expect(logged.map((a) => a.ref?.name).sort()).toEqual(['changed', 'lost']);
    expect(logged.find((a) => a.ref?.name === 'lost')?.why).toContain('never placed');
  });

  it('covers a workspace with more decisions than one run reads over successive runs', async () => {
    w.clock.now = written + 10 * MINUTE;
    const seen: string[] = [];
    for (let run = 0; run < 4; run++) {
      const report = await runRecoverySweep(w.deps({ unplacedDecisionLimit: 1 }));
      expect(report.failures).toEqual([]);
      seen.push(...(await asked()));
    }
    expect(seen.sort()).toEqual(['changed', 'lost']);
  });

  it('sends at most unplacedPerRun messages per workspace', async () => {
    w.clock.now = written + 15 * MINUTE;
    const report = await runRecoverySweep(w.deps({ unplacedPerRun: 1 }));
    expect(report.actions).toEqual({ 'resync-unplaced:enqueued': 1 });
    expect(await asked()).toHaveLength(1);
  });
});

/**
 * kube-apiserver calls no admission webhook for a webhook configuration: the sweep is what brings one to placement,
 * at once (no admission message can be on its way), and never tmc's own.
 */
describe('recovery sweep: webhook configurations, which admission never announces', () => {
  let w: RecoveryWorld;
  const WEBHOOKS = {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    resource: 'validatingwebhookconfigurations',
  };

  beforeAll(async () => {
    w = await startRecoveryWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('asks placement about a new one within the admission grace period, and not about tmc’s own', async () => {
    const hook = (name: string, labels?: Record<string, string>): KubeObject => ({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name, ...(labels ? { labels } : {}) },
      webhooks: [],
    });
    await w.kcp.store(WS).create(WEBHOOKS, hook('team-guard'));
    await w.kcp.store(WS).create(WEBHOOKS, hook('tmc-apis', { 'tmc.kcp.io/managed-by': 'tmc' }));
    w.clock.now = Date.now() + 5_000;
    const report = await runRecoverySweep(w.deps());
    expect(report.failures).toEqual([]);
    expect(report.actions).toEqual({ 'resync-unplaced:enqueued': 1 });
    const drained = await drainPlacement(w);
    expect(drained.map(({ message }) => [message.ref.kind, message.ref.name, message.ref.namespace])).toEqual([
      ['ValidatingWebhookConfiguration', 'team-guard', undefined],
    ]);
  });
});

/**
 * Under load placement's queue holds an admission for longer than the grace period. Ingress's seen record (written
 * just before its send) and the queue's depth tell such an admission from a lost one: the pass leaves it to its
 * message while the queue holds messages, up to `unplacedQueuedMaxSeconds` after the write, and still asks at once
 * about an object no webhook call announced, busy queue or not.
 */
describe('recovery sweep: admissions still in a busy placement queue', () => {
  let w: RecoveryWorld;
  let seen: DynamoSeenStore;
  let depths: SqsQueueDepths;
  let written: number;

  beforeAll(async () => {
    w = await startRecoveryWorld();
    const decisions = new DynamoDecisionStore(w.world.doc, w.world.tableName);
    seen = new DynamoSeenStore({ doc: w.world.doc, tableName: w.world.tableName });
    depths = new SqsQueueDepths(w.sqs, [{ name: 'placement', url: w.queues.placement.url }]);
    const kcp = await w.kube.kcp(WS);
    /** Creates a ConfigMap in kcp; with `admitted`, ingress recorded its admission (the object kcp sent it). */
    const create = async (name: string, admitted: boolean): Promise<KubeObject> => {
      const body: KubeObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'default', finalizers: [SYNC_FINALIZER] },
        data: { k: name },
      };
      if (admitted) await seen.markSeen(objectKey(refOf(body)), placementFingerprint(body, false));
      return w.kcp.store(WS).create(CONFIGMAPS, body);
    };
    // Its admission message waits in the queue.
    await create('queued', true);
    // Ingress recorded it and died before sending: lost, and indistinguishable from queued but by time.
    await create('crashed', true);
    // No webhook call announced it (kcp wrote it while tmc was unreachable): lost, busy queue or not.
    await create('unannounced', false);
    // A DELETE admitted and queued (ingress records the object as the DELETE carried it, before its deletionTimestamp).
    const deleting = await create('deleting', false);
    await decideOn(decisions, deleting, 'Scheduled', ['east']);
    await kcp.delete({ ...CONFIGMAPS, namespace: 'default', name: 'deleting' });
    const stored = await kcp.get({ ...CONFIGMAPS, namespace: 'default', name: 'deleting' });
    const { deletionTimestamp, ...before } = stored?.metadata ?? {};
    expect(deletionTimestamp).toBeDefined();
    await seen.markSeen(objectKey(refOf(deleting)), placementFingerprint({ ...deleting, metadata: before }, true));
    written = Date.now();
  });
  afterAll(async () => {
    await w?.close();
  });

  const deps = (): RecoverySweepDeps => ({ ...w.deps(), seen, queueDepths: () => depths.queueDepths() });

  /** Puts the queued admission's message on the placement queue (it stays there: nothing consumes it). */
  async function busy(): Promise<void> {
    await deps().placementQueue.send([
      {
        type: 'placement',
        ref: refOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'queued', namespace: 'default' } }),
        reason: 'admission',
        trace: { traceId: 'queued-admission', enqueuedAt: new Date(written).toISOString() },
      },
    ]);
  }

  /** Drains the placement queue: the names the sweep asked about (the queued admission's own message left out). */
  async function asked(): Promise<string[]> {
    const drained = await drainPlacement(w);
    return drained
      .filter(({ message }) => message.reason === 'resync')
      .map(({ message }) => message.ref.name)
      .sort();
  }

  it('asks only about the unannounced object while the queue holds messages, past the grace period', async () => {
    await busy();
    w.clock.now = written + 5 * MINUTE;
    const report = await runRecoverySweep(deps());
    expect(report.failures).toEqual([]);
    expect(report.actions).toEqual({ 'resync-unplaced:enqueued': 1 });
    expect(await asked()).toEqual(['unannounced']);
  });

  it('asks about every one once the queue is empty: what ingress recorded is not in it', async () => {
    w.clock.now = written + 5 * MINUTE;
    const report = await runRecoverySweep(deps());
    expect(report.failures).toEqual([]);
    expect(await asked()).toEqual(['crashed', 'deleting', 'queued', 'unannounced']);
  });

  it('asks about every one past unplacedQueuedMaxSeconds, busy queue or not', async () => {
    await busy();
    w.clock.now = written + 11 * MINUTE;
    const report = await runRecoverySweep(deps());
    expect(report.failures).toEqual([]);
    expect(await asked()).toEqual(['crashed', 'deleting', 'queued', 'unannounced']);
  });

  it('asks about every one without the seen records, as before', async () => {
    await busy();
    w.clock.now = written + 5 * MINUTE;
    const report = await runRecoverySweep({ ...deps(), seen: undefined });
    expect(report.failures).toEqual([]);
    expect(await asked()).toEqual(['crashed', 'deleting', 'queued', 'unannounced']);
  });
});
