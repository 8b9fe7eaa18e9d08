import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { SYNC_FINALIZER } from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { contentHash } from '../../../lib/placement/content-hash';
import type { KubeObject } from '../../../lib/ports/kube-client';
import type { DecisionReason } from '../../../lib/placement/types';
import type { RecoverySweepDeps } from '../../../lib/recovery/deps';
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
    const decide = async (object: KubeObject, reason: DecisionReason, clusters: string[]): Promise<void> => {
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
    };
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

  /** Depths as SqsQueueDepths reads them: `queue` holds messages, every other queue is empty. */
  const holding =
    (queue: string): RecoverySweepDeps['queueDepths'] =>
    async () => [
      { queue, visible: 3, inFlight: 2, delayed: 0, dlq: 0 },
      { queue: queue === 'placement' ? 'sync' : 'placement', visible: 0, inFlight: 0, delayed: 0, dlq: 0 },
    ];

  it('leaves them to their admissions while the placement queue holds messages, up to the queued bound', async () => {
    // A 300 × 3 bench at load 14–34: a burst's admissions wait in placement's queue past the grace.
    w.clock.now = written + 5 * MINUTE;
    const waiting = await runRecoverySweep({ ...w.deps(), queueDepths: holding('placement') });
    expect(waiting.failures).toEqual([]);
    expect(waiting.actions).toEqual({});
    expect(await asked()).toEqual([]);
    // Messages of another queue are not admissions.
    const other = await runRecoverySweep({ ...w.deps(), queueDepths: holding('sync') });
    expect(other.actions).toEqual({ 'resync-unplaced:enqueued': 2 });
    expect(await asked()).toEqual(['changed', 'lost']);
    // Past the bound a busy queue holds nothing back: a lost admission is repaired within it however busy tmc is.
    w.clock.now = written + 11 * MINUTE;
    const late = await runRecoverySweep({ ...w.deps(), queueDepths: holding('placement') });
    expect(late.actions).toEqual({ 'resync-unplaced:enqueued': 2 });
    expect(await asked()).toEqual(['changed', 'lost']);
  });

  it("reads a candidate's own decision before asking: the page may be older than the lists", async () => {
    // Under a burst placement decides objects between the page's read and kcp's lists.
    w.clock.now = written + 12 * MINUTE;
    const stale: DynamoDecisionStore = Object.create(decisions) as DynamoDecisionStore;
    stale.listVersions = async (workspace, options) => {
      const page = await decisions.listVersions(workspace, options);
      return { ...page, versions: page.versions.filter((v) => v.ref.name !== 'nowhere') };
    };
    const report = await runRecoverySweep({ ...w.deps(), decisions: stale });
    expect(report.failures).toEqual([]);
    expect(report.actions).toEqual({ 'resync-unplaced:enqueued': 2 });
    expect(await asked()).toEqual(['changed', 'lost']);
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
 * Chaos seed 202: Widgets deleted while kcp answered 404 to tmc's GETs of Widgets. sync-apply removed every copy, then
 * read a 404 for the kcp object and had no finalizer to release; the objects stayed Terminating. Seed 404: Widgets'
 * delete messages lost with SQS at an environment restart. Their decisions were `Deleted` (out of the decisions'
 * index) and no other decision named the kind, so the pass no longer listed it.
 */
describe('recovery sweep: a kind whose every decision is Deleted', () => {
  const SERVICEACCOUNTS = { group: '', version: 'v1', resource: 'serviceaccounts' };
  let w: RecoveryWorld;
  let decisions: DynamoDecisionStore;

  beforeAll(async () => {
    w = await startRecoveryWorld();
    decisions = new DynamoDecisionStore(w.world.doc, w.world.tableName);
  });
  afterAll(async () => {
    await w?.close();
  });

  const refOfAccount = (name: string, uid?: string): ObjectRef => ({
    workspace: WS,
    ...SERVICEACCOUNTS,
    kind: 'ServiceAccount',
    namespace: 'default',
    name,
    ...(uid ? { uid } : {}),
  });
  const decide = async (object: KubeObject, version: number, reason: DecisionReason, clusters: string[]) =>
    decisions.put({
      ref: refOfAccount(object.metadata.name ?? '', object.metadata.uid),
      decisionVersion: version,
      generation: 0,
      uid: object.metadata.uid,
      contentHash: contentHash(object),
      clusters: clusters.map((name) => ({ name })),
      scheduled: clusters.length > 0,
      reason,
      message: reason,
      explanation: [],
      explanationOmitted: 0,
      weights: {},
      diff: {
        added: version === 1 ? clusters : [],
        removed: version === 1 ? [] : ['east'],
        changed: [],
        unchanged: [],
      },
      decidedAt: new Date().toISOString(),
    });

  it('still lists it while an object of it holds tmc’s finalizer, and asks placement about that object', async () => {
    const kcp = await w.kube.kcp(WS);
    const account = w.kcp.store(WS).create(SERVICEACCOUNTS, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'runner', namespace: 'default', finalizers: [SYNC_FINALIZER] },
    });
    await decide(account, 1, 'Scheduled', ['east']);
    w.clock.now = Date.now() + 5 * MINUTE;
    await runRecoverySweep(w.deps());
    expect(await drainPlacement(w)).toEqual([]);
    // Remembered in DynamoDB, not in the container: a crash or a cold start does not forget it.
    expect(JSON.parse((await w.store.sweepCursor(`unplaced-kinds|${WS}`)) ?? '[]')).toEqual([SERVICEACCOUNTS]);

    // Deleted in kcp; placement removed it (a Deleted decision leaves the index), but the finalizer release was lost.
    await kcp.delete({ ...SERVICEACCOUNTS, namespace: 'default', name: 'runner' });
    await decide(account, 2, 'Deleted', []);
    expect((await decisions.listVersions(WS, { limit: 10 })).versions).toEqual([]);

    w.clock.now = Date.now() + 10 * MINUTE;
    const report = await runRecoverySweep(w.deps());
    expect(report.failures).toEqual([]);
    const asked = await drainPlacement(w);
    expect(asked.map(({ message }) => `${message.ref.resource}/${message.ref.name}`)).toEqual([
      'serviceaccounts/runner',
    ]);

    // Once kcp has none of the kind left, one more list finds that, and then it is not listed any more.
    await kcp.mergePatch(
      { ...SERVICEACCOUNTS, namespace: 'default', name: 'runner' },
      { metadata: { finalizers: [] } },
    );
    const lists = (): number => w.kcp.requests.count({ verb: 'list', resource: 'serviceaccounts' });
    let before = lists();
    await runRecoverySweep(w.deps());
    expect(await drainPlacement(w)).toEqual([]);
    expect(lists() - before).toBe(1);
    before = lists();
    await runRecoverySweep(w.deps());
    expect(lists() - before).toBe(0);
    expect(await w.store.sweepCursor(`unplaced-kinds|${WS}`)).toBe('[]');
  });
});
