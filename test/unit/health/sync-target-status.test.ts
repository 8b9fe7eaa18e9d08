import { observeCluster } from '../../../lib/health/rules';
import type { ClusterHealth, HealthObservation } from '../../../lib/health/cluster-health';
import { planSyncTargetStatus } from '../../../lib/health/sync-target-status';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();

function healthAfter(observations: Array<Pick<HealthObservation, 'ok'>>): ClusterHealth {
  let h: ClusterHealth | undefined;
  observations.forEach((o, i) => {
    h = observeCluster(h, 'east', {
      ...o,
      at: iso(i * 60_000),
      source: 'probe',
      latencyMs: 10,
      ...(o.ok ? {} : { detail: 'connect ECONNREFUSED' }),
    });
  });
  if (h === undefined) throw new Error('no observations');
  return h;
}

describe('planSyncTargetStatus', () => {
  const healthy = healthAfter([{ ok: true }]);
  const now = T0 + 60_000;

  it('writes both conditions and the heartbeat the first time', () => {
    const plan = planSyncTargetStatus(undefined, healthy, now);
    expect(plan.patch?.conditions.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
      ['Ready', 'True', iso(60_000)],
      ['HeartbeatHealthy', 'True', iso(60_000)],
    ]);
    expect(plan.patch?.lastSyncerHeartbeatTime).toBe(iso(0));
  });

  it.each([
    ['nothing changed, heartbeat fresh', 60_000, false],
    ['nothing changed, heartbeat just under the interval', 299_000, false],
    ['nothing changed, heartbeat due', 300_000, true],
  ])('%s', (_name, sinceBeat, writes) => {
    const first = planSyncTargetStatus(undefined, healthy, T0);
    const current = { conditions: first.patch?.conditions, lastSyncerHeartbeatTime: iso(0) };
    const plan = planSyncTargetStatus(current, healthy, T0 + sinceBeat);
    expect(plan.patch !== undefined).toBe(writes);
    expect(plan.conditionsChanged).toBe(false);
  });

  it('flips Ready to False on Unhealthy, moves lastTransitionTime, keeps foreign conditions and the old heartbeat', () => {
    const first = planSyncTargetStatus(undefined, healthy, T0);
    const foreign = { type: 'SyncerAuthorized', status: 'True' as const, lastTransitionTime: iso(-1) };
    const current = { conditions: [foreign, ...(first.patch?.conditions ?? [])], lastSyncerHeartbeatTime: iso(0) };
    const down = healthAfter([{ ok: true }, { ok: false }, { ok: false }, { ok: false }]);
    const plan = planSyncTargetStatus(current, down, T0 + 240_000);
    expect(plan.conditionsChanged).toBe(true);
    expect(plan.patch?.conditions[0]).toEqual(foreign);
    expect(plan.patch?.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ProbeFailed',
      lastTransitionTime: iso(240_000),
    });
    expect(plan.patch?.conditions.find((c) => c.type === 'HeartbeatHealthy')).toMatchObject({
      status: 'False',
      reason: 'HeartbeatFailed',
    });
    expect(plan.patch?.lastSyncerHeartbeatTime).toBeUndefined();

    // The next failing probe changes nothing kcp shows: no write.
    const stillDown = observeCluster(down, 'east', {
      at: iso(240_000),
      ok: false,
      source: 'probe',
      detail: 'connect ECONNREFUSED',
    });
    expect(
      planSyncTargetStatus(
        { conditions: plan.patch?.conditions, lastSyncerHeartbeatTime: iso(0) },
        stillDown,
        T0 + 300_000,
      ).patch,
    ).toBeUndefined();
  });

  it('keeps lastTransitionTime when only the reason changes', () => {
    const first = planSyncTargetStatus(undefined, healthy, T0);
    const slow = observeCluster(healthy, 'east', { at: iso(60_000), ok: true, latencyMs: 5000, source: 'probe' });
    const plan = planSyncTargetStatus(
      { conditions: first.patch?.conditions, lastSyncerHeartbeatTime: iso(0) },
      slow,
      T0 + 60_000,
    );
    expect(plan.patch?.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'HighLatency',
      lastTransitionTime: iso(0),
    });
  });
});
