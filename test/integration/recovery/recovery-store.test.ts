import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoRecoveryStore } from '../../../lib/adapters/dynamodb/recovery-store';
import type { RecoveryStore } from '../../../lib/ports/recovery-store';
import { SqsDeadLetterQueue } from '../../../lib/adapters/sqs/sqs-dead-letter-queue';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import { confirmDeletions, DeletionGuard, unplaceScope, vanishedScope } from '../../../lib/recovery/deletion-guard';
import { withOneAbsenceSightingPerRun } from '../../../lib/recovery/sweep';
import { memoryLog } from '../../../lib/observability/log';
import { waitFor } from '../../support/wait';
import { startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const ref = (name: string): ObjectRef => ({
  workspace: WS,
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'default',
  name,
});

/** The recovery store on dynalite and the DLQ adapter on fauxqs: the state the sweep and the CLI rely on. */
describe('DynamoRecoveryStore (dynalite) and SqsDeadLetterQueue (fauxqs)', () => {
  let w: RecoveryWorld;
  let store: DynamoRecoveryStore;

  beforeAll(async () => {
    w = await startRecoveryWorld();
    store = w.store;
  });
  afterAll(async () => {
    await w?.close();
  });

  it('records actions by UTC day, newest first, never mixing days', async () => {
    await store.record({
      action: 'failover',
      outcome: 'enqueued',
      why: 'east is Unhealthy',
      at: '2026-01-02T10:00:00.000Z',
      cluster: 'east',
      ref: ref('a'),
    });
    await store.record({
      action: 'cleanup',
      outcome: 'sent',
      why: 'west is ready',
      at: '2026-01-02T11:00:00.000Z',
      cluster: 'east',
      ref: ref('a'),
    });
    await store.record({ action: 'dlq-park', outcome: 'parked', why: 'gave up', at: '2026-01-03T00:00:01.000Z' });
    expect((await store.actions('2026-01-02', 10)).map((a) => a.action)).toEqual(['cleanup', 'failover']);
    expect(await store.actions('2026-01-02', 1)).toEqual([
      {
        action: 'cleanup',
        outcome: 'sent',
        why: 'west is ready',
        at: '2026-01-02T11:00:00.000Z',
        cluster: 'east',
        ref: ref('a'),
      },
    ]);
    expect((await store.actions('2026-01-03', 10)).map((a) => a.why)).toEqual(['gave up']);
  });

  it('keeps the first pending cleanup of an object (conditional put), marks it sent and drops it', async () => {
    await store.deferCleanup({ cluster: 'east', ref: ref('web'), since: '2026-01-01T00:00:00.000Z' });
    await store.deferCleanup({ cluster: 'east', ref: ref('web'), since: '2026-01-01T05:00:00.000Z' }); // a later failover pass
    await store.deferCleanup({ cluster: 'east', ref: ref('api'), since: '2026-01-01T01:00:00.000Z' });
    await store.deferCleanup({ cluster: 'west', ref: ref('web'), since: '2026-01-01T02:00:00.000Z' });
    const east = await store.pendingCleanups('east', 10);
    expect(east.map((c) => [c.ref.name, c.since])).toEqual([
      ['api', '2026-01-01T01:00:00.000Z'],
      ['web', '2026-01-01T00:00:00.000Z'],
    ]);
    await store.markCleanupSent('east', ref('web'), '2026-01-01T06:00:00.000Z');
    expect((await store.pendingCleanups('east', 10)).find((c) => c.ref.name === 'web')?.sentAt).toBe(
      '2026-01-01T06:00:00.000Z',
    );
    await store.dropCleanup('east', ref('web'));
    expect((await store.pendingCleanups('east', 10)).map((c) => c.ref.name)).toEqual(['api']);
    expect(await store.pendingCleanups('west', 10)).toHaveLength(1);
  });

  it('stores retry state and the sweep cursor, and forgets them', async () => {
    await store.putRetryState('dlq|sync|abc', {
      attempts: 2,
      nextAt: 1_000,
      lastAt: '2026-01-01T00:00:00.000Z',
      reason: 'parked',
    });
    expect(await store.retryState('dlq|sync|abc')).toEqual({
      attempts: 2,
      nextAt: 1_000,
      lastAt: '2026-01-01T00:00:00.000Z',
      reason: 'parked',
    });
    await store.clearRetryState('dlq|sync|abc');
    expect(await store.retryState('dlq|sync|abc')).toBeUndefined();

    expect(await store.sweepCursor(`sweep|${WS}|east`)).toBeUndefined();
    await store.putSweepCursor(`sweep|${WS}|east`, objectKey(ref('m')));
    expect(await store.sweepCursor(`sweep|${WS}|east`)).toBe(objectKey(ref('m')));
    expect(await store.sweepCursor(`sweep|${WS}|west`)).toBeUndefined();
    await store.putSweepCursor(`sweep|${WS}|east`, undefined);
    expect(await store.sweepCursor(`sweep|${WS}|east`)).toBeUndefined();
  });

  it('records each planned removal once per window, concurrently, and lists those of the window', async () => {
    const scope = 'unplace:east/root:x/apps/v1/deployments';
    const firsts = await Promise.all(
      Array.from({ length: 4 }, (_, i) => store.noteRemoval(scope, ref('p'), 1_000 + i, 0)),
    );
    expect(new Set(firsts).size).toBe(1); // one of them recorded it; the others read that time back
    expect(await store.noteRemoval(scope, ref('p'), 5_000, 0)).toBe(firsts[0]);
    expect(await store.noteRemoval(scope, ref('q'), 5_000, 0)).toBe(5_000);
    expect((await store.plannedRemovals(scope, 0)).map((p) => [p.ref.name, p.firstSeenAt]).sort()).toEqual([
      ['p', firsts[0]],
      ['q', 5_000],
    ]);
    expect((await store.plannedRemovals(scope, 2_000)).map((p) => p.ref.name)).toEqual(['q']);
    // Planned before the window began: an earlier burst; this planning starts anew.
    expect(await store.noteRemoval(scope, ref('p'), 9_000, 2_000)).toBe(9_000);
    expect(await store.plannedRemovals('unplace:west/root:x/apps/v1/deployments', 0)).toEqual([]);
  });

  it('counts a workspace’s decided objects', async () => {
    for (let i = 0; i < 7; i++) {
      await w.world.doc.send(
        new PutCommand({
          TableName: w.world.tableName,
          Item: {
            pk: `OBJ#${objectKey(ref(`d${i}`))}`,
            sk: 'DECISION',
            gsi1pk: `DECISIONS#${WS}`,
            gsi1sk: objectKey(ref(`d${i}`)),
          },
        }),
      );
    }
    expect(await store.countObjects(WS)).toBe(7);
    expect(await store.countObjects('root:empty')).toBe(0);
  });

  it('counts a workspace’s decided objects of one type', async () => {
    const cm: ObjectRef = {
      workspace: WS,
      group: '',
      version: 'v1',
      resource: 'configmaps',
      kind: 'ConfigMap',
      namespace: 'default',
      name: 'c0',
    };
    await w.world.doc.send(
      new PutCommand({
        TableName: w.world.tableName,
        Item: { pk: `OBJ#${objectKey(cm)}`, sk: 'DECISION', gsi1pk: `DECISIONS#${WS}`, gsi1sk: objectKey(cm) },
      }),
    );
    expect(await store.countObjects(WS, { group: 'apps', resource: 'deployments' })).toBe(7);
    expect(await store.countObjects(WS, { group: '', resource: 'configmaps' })).toBe(1);
    expect(await store.countObjects(WS, { group: 'apps', resource: 'statefulsets' })).toBe(0);
  });

  it('keeps a vanished object until the sweep confirmed its absence (a 404 alone is not evidence)', async () => {
    const guard = new DeletionGuard({
      store,
      metrics: { increment: () => undefined, observe: () => undefined, gauge: () => undefined },
      log: memoryLog(),
      now: () => w.clock.now,
    });
    expect(await guard.admitVanished(ref('d0'))).toBe('unconfirmed');
    // One complete read found it absent: still not confirmed, until a read at least 50 s later finds it absent again.
    expect(await guard.observeAbsent(ref('d0'))).toBe(false);
    expect(await guard.admitVanished(ref('d0'))).toBe('unconfirmed');
    w.clock.now += 49_000;
    expect(await guard.observeAbsent(ref('d0'))).toBe(false);
    w.clock.now += 1_000;
    expect(await guard.observeAbsent(ref('d0'))).toBe(true);
    expect(await store.absence(ref('d0'))).toMatchObject({
      firstSeenAt: w.clock.now - 50_000,
      confirmedAt: w.clock.now,
    });
    // Seen again in kcp: the absence is forgotten.
    await guard.observePresent(ref('d0'));
    expect(await store.absence(ref('d0'))).toBeUndefined();
  });

  /** A deletion guard with the default settings on the test's clock. */
  const guardOnClock = (): DeletionGuard =>
    new DeletionGuard({
      store,
      metrics: { increment: () => undefined, observe: () => undefined, gauge: () => undefined },
      log: memoryLog(),
      now: () => w.clock.now,
    });

  it("confirms an absence only by a later run's sighting, never by a second read of the same run", async () => {
    const guard = guardOnClock();
    // The orphan step and the vanished-object check of one run both read kcp; the run is slow (or the window short).
    expect(await guard.observeAbsent(ref('d1'), 'run-1')).toBe(false);
    w.clock.now += 120_000;
    expect(await guard.observeAbsent(ref('d1'), 'run-1')).toBe(false);
    expect(await store.absence(ref('d1'))).toMatchObject({ firstSeenRun: 'run-1' });
    expect((await store.absence(ref('d1')))?.confirmedAt).toBeUndefined();
    expect(await guard.admitVanished(ref('d1'))).toBe('unconfirmed');
    // The next run's sighting confirms it.
    expect(await guard.observeAbsent(ref('d1'), 'run-2')).toBe(true);
    await guard.observePresent(ref('d1'));
  });

  it('lets the first step of a sweep run that reads an absence own it: a second step reading it does not act', async () => {
    const guard = guardOnClock();
    const run = (): DeletionGuard => withOneAbsenceSightingPerRun({ ...w.deps(), guard }).guard;
    const first = run();
    expect(await first.observeAbsent(ref('d2'))).toBe(false); // the orphan step's sighting
    w.clock.now += 120_000;
    expect(await first.observeAbsent(ref('d2'))).toBe(false); // the vanished-object check, same run: no sighting
    const second = run();
    expect(await second.observeAbsent(ref('d2'))).toBe(true); // the next run's first step confirms and acts
    expect(await second.observeAbsent(ref('d2'))).toBe(false); // its other step leaves the object to it
    await guard.observePresent(ref('d2'));
  });

  it('counts a burst of confirmed vanishes before deleting any: the fifth of a type raises the hold over all', async () => {
    // WS has 7 decided Deployments: 4 vanishing are below the minimum, the 5th is more than half of them.
    const guard = new DeletionGuard({
      store,
      metrics: { increment: () => undefined, observe: () => undefined, gauge: () => undefined },
      log: memoryLog(),
      now: () => w.clock.now,
    });
    for (let i = 0; i < 7; i++)
      await store.putAbsence({ ref: ref(`d${i}`), firstSeenAt: w.clock.now - 60_000, confirmedAt: w.clock.now });
    const verdicts = [];
    for (let i = 0; i < 6; i++) verdicts.push(await guard.admitVanished(ref(`d${i}`)));
    // None goes at once: each waits to be counted with its burst, and the fifth raises the hold.
    expect(verdicts).toEqual(['wait', 'wait', 'wait', 'wait', 'hold', 'hold']);
    const scope = vanishedScope(WS, ref('d0'));
    expect(scope).toBe(`workspace:${WS}/apps/v1/deployments`);
    const hold = await store.hold(scope);
    expect(hold).toMatchObject({ scope, planned: 5, total: 7 });
    expect(hold?.refs.map((r) => r.name).sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
    expect((await store.holds()).map((h) => h.scope)).toEqual([scope]);
    // Asked again after the wait, the first four are held with the rest: not one copy of the burst was deleted.
    w.clock.now += 16_000;
    expect(await guard.admitVanished(ref('d0'))).toBe('hold');
    expect((await guard.heldRemovals((await store.hold(scope))!)).map((r) => r.name).sort()).toEqual([
      'd0',
      'd1',
      'd2',
      'd3',
      'd4',
      'd5',
    ]);

    const confirmed = await confirmDeletions(store, scope, 'alice', w.clock.now);
    expect(confirmed).toMatchObject({ confirmedBy: 'alice', confirmedUntil: w.clock.now + 3_600_000 });
    expect(await guard.admitVanished(ref('d6'))).toBe('allow');
    await store.clearHold(scope);
    expect(await store.holds()).toEqual([]);
  });

  it('lets a few confirmed vanishes go once they have waited to be counted', async () => {
    const guard = new DeletionGuard({
      store,
      metrics: { increment: () => undefined, observe: () => undefined, gauge: () => undefined },
      log: memoryLog(),
      now: () => w.clock.now,
    });
    const few = ['f0', 'f1'].map((name) => ({ ...ref(name), resource: 'statefulsets', kind: 'StatefulSet' }));
    for (const r of few)
      await store.putAbsence({ ref: r, firstSeenAt: w.clock.now - 60_000, confirmedAt: w.clock.now });
    expect(await Promise.all(few.map((r) => guard.admitVanished(r)))).toEqual(['wait', 'wait']);
    w.clock.now += 15_000;
    expect(await Promise.all(few.map((r) => guard.admitVanished(r)))).toEqual(['allow', 'allow']);
    expect(await store.hold(vanishedScope(WS, few[0]))).toBeUndefined();
  });

  it('records and reports a hold that six invocations raise at once only once', async () => {
    // Six placement invocations each plan one removal of WS's Deployments from west and read the scope at the same
    // moment: none sees a hold, and each counts all six planned (more than half), so each raises it.
    const barrier = (n: number): (() => Promise<void>) => {
      let waiting = 0;
      let open: () => void = () => undefined;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return async () => {
        if (++waiting >= n) open();
        await opened;
      };
    };
    const beforeHoldRead = barrier(6);
    const beforeCount = barrier(6);
    const racing: RecoveryStore = Object.create(store) as RecoveryStore;
    let firstReads = 0;
    racing.hold = async (scope) => {
      if (firstReads++ < 6) await beforeHoldRead();
      return store.hold(scope);
    };
    racing.plannedRemovals = async (scope, since) => {
      await beforeCount();
      return store.plannedRemovals(scope, since);
    };
    const counted: string[] = [];
    const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
    const log = memoryLog(lines);
    const guard = new DeletionGuard({
      store: racing,
      metrics: {
        increment: (name, labels) => void counted.push(`${name}:${labels?.outcome ?? ''}`),
        observe: () => undefined,
        gauge: () => undefined,
      },
      log,
      now: () => w.clock.now,
    });
    const names = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];
    const verdicts = await Promise.all(names.map((name) => guard.admitRemoval(ref(name), 'west')));
    expect(verdicts).toEqual(names.map(() => 'hold'));

    const scope = unplaceScope(WS, 'west', ref('r0'));
    const day = new Date(w.clock.now).toISOString().slice(0, 10);
    const held = (await store.actions(day, 100)).filter(
      (a) => a.action === 'deletion-hold' && a.outcome === 'held' && a.cluster === 'west',
    );
    expect(held).toHaveLength(1);
    expect(lines.filter((l) => l.message === `Holding deletions in ${scope}`)).toHaveLength(1);
    expect(counted.filter((c) => c === 'tmc_recovery_actions_total:held')).toHaveLength(1);
    const hold = await store.hold(scope);
    expect(hold).toMatchObject({ scope, planned: 6 });
    expect((await guard.heldRemovals(hold!)).map((r) => r.name).sort()).toEqual(names);
    await store.clearHold(scope);
  });

  it('DLQ adapter: receives, hides, redrives with a delay and removes', async () => {
    const dlq = new SqsDeadLetterQueue('status', w.sqs, w.queues.status.dlqUrl, w.queues.status.url);
    await w.sqs.send(new SendMessageCommand({ QueueUrl: w.queues.status.dlqUrl, MessageBody: '{"type":"status"}' }));
    const [letter] = await dlq.receive(10, 60);
    expect(letter.body).toBe('{"type":"status"}');
    expect(await dlq.receive(10, 60)).toEqual([]); // hidden for 60 s by the receive
    await dlq.hide(letter, 0); // visible again at once
    const [again] = await dlq.receive(10, 60);
    expect(again.body).toBe(letter.body);

    await dlq.redrive(again.body, 1);
    await dlq.remove(again);
    expect(await w.counts(w.queues.status.dlqUrl)).toEqual({ visible: 0, hidden: 0, delayed: 0 });
    expect(await w.counts(w.queues.status.url)).toMatchObject({ visible: 0, delayed: 1 }); // DelaySeconds, not at once
    const back = await waitFor('the redriven message on the status queue', async () => {
      const out = await w.sqs.send(new ReceiveMessageCommand({ QueueUrl: w.queues.status.url, WaitTimeSeconds: 1 }));
      return out.Messages?.[0];
    });
    expect(back.Body).toBe('{"type":"status"}');
  });
});
