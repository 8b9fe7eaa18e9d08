import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { SYNC_FINALIZER } from '../../../lib/api/labels';
import { contentHash } from '../../../lib/placement/content-hash';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import { CONTENT_KEY, drainPlacement, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const SECRETS = { group: '', version: 'v1', resource: 'secrets' };
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const MINUTE = 60_000;
/** The Secrets' data: none of it may reach a queue message, a recorded action or a log line. */
const SECRET_VALUE = 'c3VwZXItc2VjcmV0LXBhc3N3b3Jk';

/**
 * The unplaced pass over Secrets and over objects deleted while tmc was down (on dynalite, fauxqs and the simulated
 * kcp, which has no webhooks: every write's admission is lost). A Secret is judged by its keyed content hash, as
 * placement stores it; an object held by tmc's finalizer whose deletion placement never saw is asked about, whatever
 * its kind. Messages carry refs only.
 */
describe('recovery sweep: Secrets and deletions whose admission was lost', () => {
  let w: RecoveryWorld;
  let written: number;

  beforeAll(async () => {
    w = await startRecoveryWorld();
    const decisions = new DynamoDecisionStore(w.world.doc, w.world.tableName);
    const kcp = await w.kube.kcp(WS);
    const create = async (
      gvr: typeof SECRETS,
      kind: string,
      name: string,
      body: Record<string, unknown>,
    ): Promise<KubeObject> =>
      w.kcp.store(WS).create(gvr, {
        apiVersion: 'v1',
        kind,
        metadata: { name, namespace: 'default', finalizers: [SYNC_FINALIZER] },
        ...body,
      });
    const decide = async (gvr: typeof SECRETS, object: KubeObject): Promise<void> => {
      const hash = contentHash(object, object.kind === 'Secret' ? CONTENT_KEY : undefined);
      await decisions.put({
        ref: {
          workspace: WS,
          ...gvr,
          kind: object.kind,
          namespace: 'default',
          name: object.metadata.name ?? '',
          uid: object.metadata.uid,
        },
        decisionVersion: 1,
        generation: typeof object.metadata.generation === 'number' ? object.metadata.generation : 0,
        resourceVersion: object.metadata.resourceVersion,
        uid: object.metadata.uid,
        contentHash: hash,
        clusters: [{ name: 'east' }],
        scheduled: true,
        reason: 'Scheduled',
        message: 'Scheduled',
        explanation: [],
        explanationOmitted: 0,
        weights: {},
        diff: { added: ['east'], removed: [], changed: [], unchanged: [] },
        decidedAt: new Date().toISOString(),
      });
    };
    const secret = (name: string): Promise<KubeObject> =>
      create(SECRETS, 'Secret', name, { type: 'Opaque', data: { password: SECRET_VALUE } });
    await decide(SECRETS, await secret('placed'));
    await secret('lost');
    await decide(SECRETS, await secret('changed'));
    await decide(SECRETS, await secret('gone'));
    await decide(CONFIGMAPS, await create(CONFIGMAPS, 'ConfigMap', 'gone-config', { data: { k: 'v' } }));
    // An UPDATE and two DELETEs whose admission was lost; tmc's finalizer holds the deleted ones.
    await kcp.mergePatch(
      { ...SECRETS, namespace: 'default', name: 'changed' },
      { data: { password: Buffer.from('rotated').toString('base64') } },
    );
    await kcp.delete({ ...SECRETS, namespace: 'default', name: 'gone' });
    await kcp.delete({ ...CONFIGMAPS, namespace: 'default', name: 'gone-config' });
    expect(
      (await kcp.get({ ...SECRETS, namespace: 'default', name: 'gone' }))?.metadata.deletionTimestamp,
    ).toBeDefined();
    written = Date.now();
  });
  afterAll(async () => {
    await w?.close();
  });

  /** Drains the placement queue: `<kind>/<name>` of each object asked about; fails on Secret data in a body. */
  async function asked(): Promise<string[]> {
    const drained = await drainPlacement(w);
    for (const { body, message } of drained) {
      expect(body).not.toContain(SECRET_VALUE);
      expect(message).toMatchObject({ type: 'placement', reason: 'resync' });
    }
    return drained.map(({ message }) => `${message.ref.kind}/${message.ref.name}`).sort();
  }

  it('leaves them to their admission messages within the grace period', async () => {
    w.clock.now = written + 30_000;
    const report = await runRecoverySweep(w.deps());
    expect(report.failures).toEqual([]);
    expect(await asked()).toEqual([]);
  });

  it('asks placement about the lost Secret CREATE, UPDATE and DELETE and the lost ConfigMap DELETE, not the placed Secret', async () => {
    w.clock.now = written + 5 * MINUTE;
    const report = await runRecoverySweep(w.deps());
    expect(report.failures).toEqual([]);
    expect(report.actions).toEqual({ 'resync-unplaced:enqueued': 4 });
    expect(await asked()).toEqual(['ConfigMap/gone-config', 'Secret/changed', 'Secret/gone', 'Secret/lost']);
    const day = new Date(w.clock.now).toISOString().slice(0, 10);
    const logged = (await w.store.actions(day, 20)).filter((a) => a.action === 'resync-unplaced');
    expect(logged.map((a) => a.ref?.name).sort()).toEqual(['changed', 'gone', 'gone-config', 'lost']);
    expect(logged.find((a) => a.ref?.name === 'gone')?.why).toContain('placement never saw the deletion');
    expect(JSON.stringify(logged)).not.toContain(SECRET_VALUE);
  });

  it('asks about them while deletions in the workspace are held: the pass acts only on what kcp lists, never on absence', async () => {
    // An orphan hold in the workspace (kcp's lists of Secrets in doubt on east): a DELETE kcp shows is still positive
    // evidence, and a listed object's lost CREATE or UPDATE deletes nothing; absence from a list is never judged here.
    await w.store.putHold({
      scope: `cluster:east/${WS}/v1/secrets`,
      reason: 'the orphan sweep found 9 of 10 Secrets missing from kcp',
      planned: 9,
      total: 10,
      raisedAt: new Date(w.clock.now).toISOString(),
      refs: [],
    });
    await w.store.putSweepCursor(`unplaced|${WS}`, undefined);
    w.clock.now += MINUTE;
    const report = await runRecoverySweep(w.deps());
    expect(report.failures).toEqual([]);
    expect(report.actions).toEqual({ 'resync-unplaced:enqueued': 4 });
    expect(await asked()).toEqual(['ConfigMap/gone-config', 'Secret/changed', 'Secret/gone', 'Secret/lost']);
    await w.store.clearHold(`cluster:east/${WS}/v1/secrets`);
  });
});
