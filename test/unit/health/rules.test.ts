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
    ['three failures', { consecutiveFailures: 3, consecutiveSuccesses: 0, last: fail() }, 'Unhealthy', 'ProbeFailed'],
    [
      'three failures, last from sync',
      { consecutiveFailures: 3, consecutiveSuccesses: 0, last: fail('sync') },
      'Unhealthy',
      'SyncUnreachable',
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
    const a = classifyCluster({ consecutiveFailures: 3, consecutiveSuccesses: 0, last: fail() });
    const b = classifyCluster({ consecutiveFailures: 9, consecutiveSuccesses: 0, last: fail() });
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
