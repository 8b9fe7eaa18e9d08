import type { ClusterHealth, ComponentHealthRecord, HealthObservation } from '../../../lib/health/cluster-health';
import {
  aggregateHealth,
  classifyCluster,
  classifyComponent,
  clusterVerdictAt,
  componentThresholdsFor,
  DEFAULT_CLUSTER_THRESHOLDS,
  observeCluster,
  type NamedVerdict,
} from '../../../lib/health/rules';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();
const ok = (latencyMs = 20): HealthObservation => ({ at: iso(0), ok: true, latencyMs, source: 'probe' });
const fail = (source: 'probe' | 'sync' = 'probe'): HealthObservation => ({
  at: iso(0),
  ok: false,
  source,
  detail: 'connect ECONNREFUSED',
});
/** A failure streak that began `spanMs` before the last observation (at iso(0)), `probe` of its failures the probe's. */
const streak = (
  failures: number,
  probe: number,
  spanMs: number,
): { consecutiveFailures: number; consecutiveSuccesses: number; probeFailures: number; failingSince: string } => ({
  consecutiveFailures: failures,
  consecutiveSuccesses: 0,
  probeFailures: probe,
  failingSince: iso(-spanMs),
});

describe('classifyCluster', () => {
  it.each([
    ['no observation', { consecutiveFailures: 0, consecutiveSuccesses: 0 }, 'Unknown', 'NeverProbed'],
    [
      'fast success',
      { consecutiveFailures: 0, consecutiveSuccesses: 1, latencyMs: 50, last: ok(50) },
      'Healthy',
      'ProbeSucceeded',
    ],
    [
      'slow success',
      { consecutiveFailures: 0, consecutiveSuccesses: 1, latencyMs: 1500, last: ok(1500) },
      'Degraded',
      'HighLatency',
    ],
    [
      'latency exactly at threshold',
      { consecutiveFailures: 0, consecutiveSuccesses: 1, latencyMs: 1000, last: ok(1000) },
      'Healthy',
      'ProbeSucceeded',
    ],
    ['one failure', { consecutiveFailures: 1, consecutiveSuccesses: 0, last: fail() }, 'Degraded', 'ProbeFailing'],
    ['two failures', { consecutiveFailures: 2, consecutiveSuccesses: 0, last: fail() }, 'Degraded', 'ProbeFailing'],
    ['three probe failures spanning the grace', { ...streak(3, 3, 40_000), last: fail() }, 'Unhealthy', 'ProbeFailed'],
    [
      'three probe failures within the grace (a blip, or a starved hub)',
      { ...streak(3, 3, 39_999), last: fail() },
      'Degraded',
      'ProbeFailing',
    ],
    [
      'three failures over the grace, last from sync, one from the probe',
      { ...streak(3, 1, 60_000), last: fail('sync') },
      'Unhealthy',
      'SyncUnreachable',
    ],
    [
      'many sync timeouts over the grace, none from the probe',
      { ...streak(50, 0, 120_000), last: fail('sync') },
      'Degraded',
      'ProbeFailing',
    ],
    [
      'two probe failures over the grace (fewer than the count)',
      { ...streak(2, 2, 60_000), last: fail() },
      'Degraded',
      'ProbeFailing',
    ],
    [
      "a pull cluster's missing heartbeats, health-probe's own finding",
      { ...streak(3, 3, 60_000), last: { ...fail(), source: 'syncer' as const } },
      'Unhealthy',
      'ProbeFailed',
    ],
    [
      'recovering, hysteresis 1',
      { consecutiveFailures: 0, consecutiveSuccesses: 1, previousState: 'Unhealthy' as const, last: ok() },
      'Healthy',
      'ProbeSucceeded',
    ],
  ])('%s', (_name, counts, state, reason) => {
    expect(classifyCluster(counts)).toMatchObject({ state, reason });
  });

  it('keeps an Unhealthy cluster Unhealthy until it has enough successes', () => {
    const thresholds = { ...DEFAULT_CLUSTER_THRESHOLDS, healthyAfterSuccesses: 2 };
    expect(
      classifyCluster(
        { consecutiveFailures: 0, consecutiveSuccesses: 1, previousState: 'Unhealthy', last: ok() },
        thresholds,
      ),
    ).toMatchObject({ state: 'Unhealthy', reason: 'Recovering' });
    expect(
      classifyCluster(
        { consecutiveFailures: 0, consecutiveSuccesses: 2, previousState: 'Unhealthy', last: ok() },
        thresholds,
      ),
    ).toMatchObject({ state: 'Healthy' });
  });

  it('keeps the Unhealthy message stable while failures keep coming (no status rewrite per probe)', () => {
    const a = classifyCluster({ ...streak(3, 3, 120_000), last: fail() });
    const b = classifyCluster({ ...streak(9, 9, 120_000), last: fail() });
    expect(a.state).toBe('Unhealthy');
    expect(a.message).toBe(b.message);
  });
});

describe('observeCluster', () => {
  it('counts, moves `since` only on a state change, bounds history, and bumps the version', () => {
    let health: ClusterHealth | undefined;
    const states: string[] = [];
    for (let i = 0; i < 25; i += 1) {
      const observation = i < 3 ? { ...ok(), at: iso(i * 60_000) } : { ...fail(), at: iso(i * 60_000) };
      health = observeCluster(health, 'east', observation, DEFAULT_CLUSTER_THRESHOLDS, 'root:default');
      states.push(health.state);
    }
    expect(states.slice(0, 6)).toEqual(['Healthy', 'Healthy', 'Healthy', 'Degraded', 'Degraded', 'Unhealthy']);
    expect(health).toMatchObject({
      cluster: 'east',
      workspace: 'root:default',
      state: 'Unhealthy',
      consecutiveFailures: 22,
      version: 25,
      since: iso(5 * 60_000),
    });
    expect(health?.history).toHaveLength(20);
    expect(health?.history[19].at).toBe(iso(24 * 60_000));
    expect(health?.latencyMs).toBe(20); // the last successful probe's latency is kept through failures
  });

  it('never turns a cluster Unhealthy on a burst of timeouts within a second (the starved-hub case)', () => {
    let health: ClusterHealth | undefined = observeCluster(undefined, 'east', { ...ok(), at: iso(0) });
    // sync-apply's cluster-unreachable timeouts, then the probe's own timeout, all within one second.
    for (let i = 1; i <= 10; i += 1) health = observeCluster(health, 'east', { ...fail('sync'), at: iso(i * 50) });
    health = observeCluster(health, 'east', { ...fail(), at: iso(900) });
    expect(health).toMatchObject({ state: 'Degraded', consecutiveFailures: 11, probeFailures: 1 });
    expect(health.failingSince).toBe(iso(50));
  });

  it('never turns a cluster Unhealthy that recovers within the grace, and starts a new streak after', () => {
    let health: ClusterHealth | undefined = observeCluster(undefined, 'east', { ...ok(), at: iso(0) });
    const seen: string[] = [];
    for (const [at, o] of [
      [1_000, fail()],
      [10_000, fail('sync')],
      [30_000, fail('sync')],
      [39_000, fail('sync')],
      [39_500, ok()],
      [41_000, fail('sync')],
      [50_000, fail()],
      [79_000, fail('sync')],
    ] as const) {
      health = observeCluster(health, 'east', { ...o, at: iso(at) });
      seen.push(health.state);
    }
    expect(seen).toEqual([
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Healthy',
      'Degraded',
      'Degraded',
      'Degraded',
    ]);
    expect(health).toMatchObject({ failingSince: iso(41_000), probeFailures: 1, consecutiveFailures: 3 });
    // The new streak spans the grace at 81 s: Unhealthy then, and not before.
    health = observeCluster(health, 'east', { ...fail('sync'), at: iso(81_000) });
    expect(health.state).toBe('Unhealthy');
  });

  it('reads the streak of an item stored before the streak was (from its history)', () => {
    let health: ClusterHealth | undefined = observeCluster(undefined, 'east', { ...ok(), at: iso(0) });
    health = observeCluster(health, 'east', { ...fail(), at: iso(60_000) });
    health = observeCluster(health, 'east', { ...fail('sync'), at: iso(70_000) });
    const { failingSince: _since, probeFailures: _probe, ...older } = health;
    const next = observeCluster(older, 'east', { ...fail('sync'), at: iso(100_000) });
    expect(next).toMatchObject({ state: 'Unhealthy', failingSince: iso(60_000), probeFailures: 1 });
  });

  it('does not move lastProbeAt for sync observations', () => {
    const probed = observeCluster(undefined, 'east', { ...ok(), at: iso(0) });
    const synced = observeCluster(probed, 'east', { ...fail('sync'), at: iso(1000) });
    expect(synced.lastProbeAt).toBe(iso(0));
    expect(synced.consecutiveFailures).toBe(1);
  });
});

describe('clusterVerdictAt', () => {
  const health = observeCluster(undefined, 'east', { ...ok(), at: iso(0) });
  it.each([
    ['fresh', 60_000, 'Healthy', 'ProbeSucceeded'],
    ['at the staleness limit', 300_000, 'Healthy', 'ProbeSucceeded'],
    ['stale', 300_001, 'Unknown', 'ProbeStale'],
  ])('%s', (_name, age, state, reason) => {
    expect(clusterVerdictAt(health, T0 + age)).toMatchObject({ state, reason });
  });
  it('is Unknown when there is no item', () => {
    expect(clusterVerdictAt(undefined, T0)).toMatchObject({ state: 'Unknown', reason: 'NeverProbed' });
  });
});

describe('classifyComponent', () => {
  const nowSeconds = Math.floor(T0 / 1000);
  const windowStart = nowSeconds - (nowSeconds % 300);
  const record = (over: Partial<ComponentHealthRecord>): ComponentHealthRecord => ({
    component: 'sync-apply',
    lastInvocationAt: iso(0),
    lastSuccessAt: iso(0),
    invocations: 0,
    errors: 0,
    windowStart,
    windowInvocations: 0,
    windowErrors: 0,
    prevWindowInvocations: 0,
    prevWindowErrors: 0,
    ...over,
  });
  it.each([
    ['never invoked', undefined, 'Unknown', 'NeverInvoked'],
    ['all good', record({ windowInvocations: 100, windowErrors: 0 }), 'Healthy', 'Succeeding'],
    [
      'few invocations, one failed (not judged)',
      record({ windowInvocations: 2, windowErrors: 1 }),
      'Healthy',
      'Succeeding',
    ],
    ['10% errors', record({ windowInvocations: 10, windowErrors: 1 }), 'Degraded', 'ElevatedErrorRate'],
    [
      '50% errors over both windows',
      record({
        windowInvocations: 4,
        windowErrors: 2,
        prevWindowStart: windowStart - 300,
        prevWindowInvocations: 6,
        prevWindowErrors: 3,
      }),
      'Unhealthy',
      'HighErrorRate',
    ],
    [
      'old errors only (previous window too old)',
      record({ windowStart: windowStart - 900, windowInvocations: 10, windowErrors: 10 }),
      'Healthy',
      'Succeeding',
    ],
    ['backlog 6 min', record({ backlogAgeSeconds: 360, backlogObservedAt: iso(0) }), 'Degraded', 'BacklogAge'],
    ['backlog 20 min', record({ backlogAgeSeconds: 1200, backlogObservedAt: iso(0) }), 'Unhealthy', 'BacklogAge'],
    [
      'old backlog observation',
      record({ backlogAgeSeconds: 1200, backlogObservedAt: iso(-3_600_000) }),
      'Healthy',
      'Succeeding',
    ],
  ])('%s', (_name, rec, state, reason) => {
    expect(classifyComponent(rec, T0)).toMatchObject({ state, reason });
  });

  it('holds scheduled functions to their schedule', () => {
    const thresholds = componentThresholdsFor('health-probe');
    expect(thresholds.maxSilenceSeconds).toBe(180);
    expect(
      classifyComponent(record({ component: 'health-probe', lastSuccessAt: iso(-120_000) }), T0, thresholds),
    ).toMatchObject({ state: 'Healthy' });
    expect(
      classifyComponent(record({ component: 'health-probe', lastSuccessAt: iso(-200_000) }), T0, thresholds),
    ).toMatchObject({ state: 'Unhealthy', reason: 'NoRecentSuccess' });
    expect(componentThresholdsFor('sync-apply').maxSilenceSeconds).toBeUndefined();
  });
});

describe('aggregateHealth', () => {
  const v = (name: string, state: NamedVerdict['state']): NamedVerdict => ({ name, state, reason: 'r', message: 'm' });
  it.each([
    ['nothing reported', [], [], 'Unknown', 'NothingReported'],
    ['all unknown', [v('api', 'Unknown')], [v('east', 'Unknown')], 'Unknown', 'NothingReported'],
    ['all healthy', [v('api', 'Healthy')], [v('east', 'Healthy')], 'Healthy', 'AllHealthy'],
    [
      'unknown does not degrade',
      [v('api', 'Healthy'), v('placement', 'Unknown')],
      [v('east', 'Healthy'), v('west', 'Unknown')],
      'Healthy',
      'AllHealthy',
    ],
    ['component unhealthy wins', [v('api', 'Unhealthy')], [v('east', 'Unhealthy')], 'Unhealthy', 'ComponentUnhealthy'],
    [
      'every cluster unhealthy',
      [v('api', 'Healthy')],
      [v('east', 'Unhealthy'), v('west', 'Unhealthy')],
      'Unhealthy',
      'AllClustersUnhealthy',
    ],
    [
      'one cluster unhealthy',
      [v('api', 'Healthy')],
      [v('east', 'Unhealthy'), v('west', 'Healthy')],
      'Degraded',
      'ClusterUnhealthy',
    ],
    ['component degraded', [v('api', 'Degraded')], [v('east', 'Healthy')], 'Degraded', 'Degraded'],
    ['cluster degraded', [v('api', 'Healthy')], [v('east', 'Degraded')], 'Degraded', 'Degraded'],
  ])('%s', (_name, components, clusters, state, reason) => {
    expect(aggregateHealth(components, clusters)).toMatchObject({ state, reason });
  });

  it('names what is wrong', () => {
    expect(aggregateHealth([v('api', 'Healthy')], [v('east', 'Unhealthy'), v('west', 'Healthy')]).message).toContain(
      'east',
    );
  });
});
