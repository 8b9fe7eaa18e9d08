import { DynamoAdmissionOutbox } from '../../../lib/adapters/dynamodb/admission-outbox';
import { createIngress } from '../../../lib/ingress/ingress';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import { HangingQueue, makeDeps, request, sample } from '../../unit/ingress/fakes';
import { drainPlacement, startRecoveryWorld, type RecoveryWorld } from './recovery-world';

/**
 * Issue 14: an admission the webhook answered before its enqueue finished, whose container then died before the
 * carried-on send landed, was left to the lost-admission pass (two minutes' grace, and not every kind). The webhook now
 * records the message in the outbox before answering; the sweep sends what a dead container left there.
 */
describe('recovery sweep: admissions whose send died with their container', () => {
  let w: RecoveryWorld;

  beforeAll(async () => {
    w = await startRecoveryWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('sends the lost admission once, after its grace, and nothing on later sweeps', async () => {
    const outbox = new DynamoAdmissionOutbox(w.world.doc, w.world.tableName, () => w.clock.now);
    // The queue never answers and the carried-on send never lands: what a container that died after answering leaves.
    const ingress = createIngress(
      makeDeps({
        placementQueue: new HangingQueue('placement'),
        outbox,
        enqueueDeadlineMs: 50,
        now: () => w.clock.now,
      }),
    );
    const answered = w.clock.now;
    const res = await ingress.handle(request('admission', sample('admission-create-deployment.json')));
    expect(JSON.parse(res.body).response.allowed).toBe(true);

    // Within the grace its own container may still send it: nothing yet.
    w.clock.now += 10_000;
    expect((await runRecoverySweep(w.deps())).actions['resync-unplaced:enqueued']).toBeUndefined();
    expect(await drainPlacement(w)).toEqual([]);
    // Nor while its retries, each on a deadline of its own, may still be going (and its record's delete after them):
    // with 30 s, a 300 × 3 bench under load re-sent sends still being retried.
    w.clock.now = answered + 90_000; // 10 s + 7.5 s of waits + 5 × 15 s of attempts = 92.5 s
    expect((await runRecoverySweep(w.deps())).actions['resync-unplaced:enqueued']).toBeUndefined();
    expect(await drainPlacement(w)).toEqual([]);

    w.clock.now = answered + 150_000;
    const report = await runRecoverySweep(w.deps({}));
    expect(report.failures).toEqual([]);
    expect(report.actions['resync-unplaced:enqueued']).toBe(1);
    const sent = await drainPlacement(w);
    expect(sent.map((m) => [m.message.ref.kind, m.message.ref.namespace, m.message.ref.name])).toEqual([
      ['Deployment', 'default', 'web'],
    ]);
    expect(sent[0].message.object).toBeUndefined(); // no object content kept in the table or re-sent

    w.clock.now += 60_000;
    await runRecoverySweep(w.deps());
    expect(await drainPlacement(w)).toEqual([]);
  }, 60_000);
});
