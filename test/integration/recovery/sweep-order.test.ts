import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { SqsQueueDepths } from '../../../lib/adapters/sqs/sqs-queue-depths';
import { DeadlineExceededError } from '../../../lib/errors/tmc-error';
import type { KubeConnector } from '../../../lib/ports/kube-client';
import type { RecoverySweepDeps, RecoverySweepReport } from '../../../lib/recovery/deps';
import { lastFullPass } from '../../../lib/recovery/quiet-gate';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import type { QueueName } from '../../../lib/runtime/resources';
import { drainPlacement, mirror, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const MINUTE = 60_000;
/** The second workspace: no cluster of its own, one object whose admission message was lost. */
const WS_B = 'root:recovery-b';

/**
 * A sweep cut off by the invocation's deadline, on dynalite, fauxqs and the simulated kcp. Every run here spends its
 * whole budget in the first call it makes to `east` (the first workspace's drift and orphan checks, as under load in
 * the chaos runs): that call and every kube call after it fail as the deadline fails them. The second workspace's
 * lost-admission pass must still run: a run starts where the last cut-off one stopped (the order cursor in
 * DynamoDB), so no step waits for a run that finishes in time. Without that, every run starts over with `east` and
 * the second workspace's object is never asked about.
 */
describe('recovery sweep: runs cut off by the deadline', () => {
  let w: RecoveryWorld;
  const deadline = { cutOff: false, enabled: true };

  const cut = (what: string): Error => new DeadlineExceededError(`${what} was cut off at the invocation's deadline`);

  const deps = (): RecoverySweepDeps => {
    const base = w.deps({ unplacedGraceSeconds: 60 });
    const kube: KubeConnector = {
      kcp: async (workspace) => {
        if (deadline.cutOff) throw cut(`kcp ${workspace}`);
        return w.kube.kcp(workspace);
      },
      cluster: async (workspace, name) => {
        if (deadline.enabled) deadline.cutOff = true;
        if (deadline.cutOff) throw cut(`${name} of ${workspace}`);
        return w.kube.cluster(workspace, name);
      },
      forget: () => undefined,
    };
    const depths = new SqsQueueDepths(
      w.sqs,
      (Object.keys(w.queues) as QueueName[]).map((name) => ({ name, url: w.queues[name].url })),
    );
    return { ...base, workspaces: [WS, WS_B], kube, queueDepths: () => depths.queueDepths() };
  };

  /** One run a minute after the last, its deadline reset; what it asked placement about, by workspace. */
  const sweep = async (): Promise<{ report: RecoverySweepReport; asked: string[] }> => {
    w.clock.now += MINUTE;
    deadline.cutOff = false;
    const report = await runRecoverySweep(deps());
    const asked = (await drainPlacement(w)).map(({ message }) => `${message.ref.workspace}/${message.ref.name}`);
    return { report, asked };
  };

  beforeAll(async () => {
    w = await startRecoveryWorld();
    w.kcp.createLogicalCluster(WS_B);
    await new DynamoClusterInventory(w.world.doc, w.world.tableName).putMirror(mirror('east'));
    // A copy on east that the first workspace's drift and orphan checks read.
    w.kcp.store(WS).create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'copied', namespace: 'default' },
      data: { k: 'v' },
    });
    const at = new Date().toISOString();
    await w.world.syncState.put({
      ref: { workspace: WS, ...CONFIGMAPS, kind: 'ConfigMap', namespace: 'default', name: 'copied' },
      cluster: 'east',
      state: 'applied',
      decisionVersion: 1,
      appliedGeneration: 0,
      desiredHash: 'h',
      appliedHash: 'h',
      updatedAt: at,
      appliedAt: at,
    });
    w.kcp.store(WS_B).create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'lost', namespace: 'default' },
      data: { k: 'lost' },
    });
    // Past the lost-admission pass's grace period.
    w.clock.now = Date.now() + 5 * MINUTE;
  });
  afterAll(async () => {
    await w?.close();
  });

  it("runs the second workspace's lost-admission pass although every run is cut off in the first workspace", async () => {
    const runs: Array<{ report: RecoverySweepReport; asked: string[] }> = [];
    for (let i = 0; i < 6; i++) runs.push(await sweep());
    // Run 1 was cut off in its first step (east), so run 2 starts after it and reaches the second workspace.
    const firstAsked = runs.findIndex(({ asked }) => asked.includes(`${WS_B}/lost`)) + 1;
    expect(firstAsked).toBe(2);
    // Every run was cut off in east's step: the first workspace's clusters are tried in every run.
    for (const { report } of runs) {
      expect(report.failures.some((f) => f.includes(`east of ${WS} was cut off`))).toBe(true);
      expect(report.failures.some((f) => f.startsWith("stopped at the invocation's deadline"))).toBe(true);
    }
    // A cut-off run is never quiet: the gate keeps making full passes while a rotation is under way.
    expect((await lastFullPass(w.store))?.quiet).toBe(false);
    expect(await w.store.sweepCursor('sweep-order')).toBeDefined();
  });

  it('starts from the first step again once a run reaches every step', async () => {
    deadline.enabled = false;
    const { report } = await sweep();
    expect(report.failures).toEqual([]);
    expect(await w.store.sweepCursor('sweep-order')).toBeUndefined();
  });
});
