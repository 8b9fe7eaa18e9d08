import { SYNC_FINALIZER } from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { withInvocationDeadline, type RemainingTime } from '../../../lib/errors/deadline';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { startSimServer, type SimServer } from '../../../lib/sim';
import { SimConnector } from './sim-connector';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from './world';
import * as build from '../../support/builders';

const WS = 'root:team-a';
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };

/** A Lambda context whose function times out `ms` from now. */
function contextEnding(ms: number): RemainingTime & { end: number } {
  const end = Date.now() + ms;
  return { end, getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) };
}

// A cluster that accepts the connection and never answers (the simulator's `respond: hang` rule) must not make
// sync-apply run into Lambda's timeout: the apply is cut off at the invocation's deadline and the failure recorded.
describe('sync-apply under the invocation deadline (simulator hang fault + dynalite)', () => {
  let kcp: SimServer;
  let east: SimServer;
  let world: SyncWorld;
  let kube: SimConnector;
  let depRef: ObjectRef;
  let dep: KubeObject;

  beforeAll(async () => {
    kcp = await startSimServer({ name: 'kcp', mode: 'kcp' });
    east = await startSimServer({ name: 'east', mode: 'cluster' });
    kcp.createLogicalCluster(WS);
    dep = kcp
      .store(WS)
      .create(
        DEPLOYMENTS,
        build.deployment('web', { namespace: 'default', replicas: 1, metadata: { finalizers: [SYNC_FINALIZER] } }),
      );
    depRef = refOf(WS, dep, 'apps', 'deployments');
    world = await startSyncWorld();
    kube = new SimConnector(kcp, { east });
    await world.putDecision(depRef, 1, [{ name: 'east', replicas: 1 }]);
    await world.putCluster(WS, 'east');
  });
  afterAll(async () => {
    kube.close();
    await world.close();
    await Promise.all([kcp.stop(), east.stop()]);
  });

  it('cuts a hanging apply off before the function times out, records why, and defers the message', async () => {
    east.faults.set({ rules: [{ match: { verb: 'apply', resource: 'deployments' }, respond: 'hang' }] });
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    const context = contextEnding(6_000);

    const response = await withInvocationDeadline(context, () =>
      handler(sqsEvent([syncMessage(depRef, 'east', 1, { object: dep })])),
    );

    // Returned inside the function's time, with the message left for SQS to deliver again.
    expect(Date.now()).toBeLessThan(context.end);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(world.deferred).toHaveLength(1);
    // The apply was sent once and not retried inside the invocation.
    expect(east.requests.count({ verb: 'apply', resource: 'deployments' })).toBe(1);
    // Why, where the user and the operator look: the sync item's lastError and the log.
    const recorded = world.syncPuts.at(-1);
    expect(recorded?.state).toBe('failed');
    expect(recorded?.lastError?.category).toBe('invocation-deadline');
    expect(recorded?.lastError?.message).toContain('on east was cut off at the invocation');
    const deferral = world.logLines.find((l) => l.message === 'Deferring after a transient failure');
    expect(deferral?.attributes.error).toMatchObject({
      name: 'DeadlineExceededError',
      category: 'invocation-deadline',
    });
    // A slow cluster is not an unreachable one: the deadline feeds no failure into its health.
    expect(world.metrics.filter((m) => m.name === 'tmc_retries_total').map((m) => m.labels)).toEqual([
      { function: 'sync-apply', category: 'invocation-deadline' },
    ]);
  });

  it('the next delivery applies once the cluster answers again', async () => {
    east.faults.clear();
    const handler = makeSyncApplyHandler(world.applyDeps(kube));
    const response = await withInvocationDeadline(contextEnding(30_000), () =>
      handler(sqsEvent([syncMessage(depRef, 'east', 1, { object: dep })], 2)),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(world.syncPuts.at(-1)?.state).toBe('applied');
  });
});
