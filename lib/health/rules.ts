import { SCHEDULES, type FunctionName } from '../runtime/resources';
import {
  HEALTH_HISTORY_LIMIT,
  type ClusterHealth,
  type ComponentHealthRecord,
  type HealthObservation,
  type HealthState,
} from './cluster-health';

/**
 * Health rules: pure functions from observations and thresholds to a state with a reason. No I/O, no clock (callers
 * pass `now`), so every rule is a row in a table test (test/unit/health). docs/health.md states them in prose.
 */

/** A state with why: `reason` is CamelCase for machines, `message` a sentence for people. */
export interface HealthVerdict {
  state: HealthState;
  reason: string;
  message: string;
}

export interface ClusterThresholds {
  /** Consecutive failed observations (probe or sync) that make a cluster Unhealthy. */
  unhealthyAfterFailures: number;
  /**
   * How long a failure streak (no success in between) must last before the cluster is Unhealthy, seconds: the count
   * alone let three timeouts within a second, seen by a starved hub, fail a healthy cluster over. Like kube's
   * `--node-monitor-grace-period` (40 s) and Karmada's cluster failure threshold. Degraded still comes at once.
   */
  unhealthyGraceSeconds: number;
  /** A successful probe slower than this makes the cluster Degraded. */
  degradedLatencyMs: number;
  /** Consecutive successful probes an Unhealthy cluster needs before it is Healthy again (hysteresis). */
  healthyAfterSuccesses: number;
  /** A cluster whose last probe is older than this reads as Unknown (the probe itself is not running). */
  staleAfterSeconds: number;
}

export const DEFAULT_CLUSTER_THRESHOLDS: ClusterThresholds = {
  unhealthyAfterFailures: 3,
  unhealthyGraceSeconds: 40,
  degradedLatencyMs: 1_000,
  healthyAfterSuccesses: 1,
  // Five schedule ticks of health-probe (60 s): one missed tick is noise, five is an outage of the probe.
  staleAfterSeconds: 300,
};

interface ClusterCounts {
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** When the current failure streak began (ISO time); undefined when the last observation succeeded. */
  failingSince?: string;
  /** Failures of the streak that health-probe itself observed (`probe`, or `syncer` for a pull cluster). */
  probeFailures?: number;
  latencyMs?: number;
  previousState?: HealthState;
  last?: HealthObservation;
}

/**
 * Whether a failure streak is evidence enough to call the cluster Unhealthy (and so, past evictAfter, fail it over):
 * enough failures, spanning the grace with no success in between, and at least one of them health-probe's own. A
 * sync-apply timeout alone may come from a hub too starved to reach anyone; the probe's positive failure, and a
 * streak outlasting the grace, are what kube's node lifecycle controller and Karmada wait for too.
 */
function sustainedFailure(counts: ClusterCounts, last: HealthObservation, thresholds: ClusterThresholds): boolean {
  if (counts.consecutiveFailures < thresholds.unhealthyAfterFailures) return false;
  if ((counts.probeFailures ?? 0) < 1) return false;
  const since = Date.parse(counts.failingSince ?? last.at);
  const at = Date.parse(last.at);
  return Number.isFinite(since) && Number.isFinite(at) && at - since >= thresholds.unhealthyGraceSeconds * 1000;
}

/** A failure health-probe observed itself: /readyz failed, or a pull cluster's syncer stopped heart-beating. */
const isProbeFailure = (o: HealthObservation): boolean => !o.ok && o.source !== 'sync';

/**
 * The start of the failure streak and its probe failures for an item written before these were stored: read from
 * the trailing failures of its history (bounded, so a long streak may start earlier; never later).
 */
function streakFromHistory(previous: ClusterHealth): { failingSince?: string; probeFailures: number } {
  const history = previous.history;
  let i = history.length;
  while (i > 0 && !history[i - 1].ok) i -= 1;
  const trailing = history.slice(i);
  return { failingSince: trailing[0]?.at, probeFailures: trailing.filter(isProbeFailure).length };
}

/** The state of a cluster from its counts: the rule table of docs/health.md, first match wins. */
export function classifyCluster(
  counts: ClusterCounts,
  thresholds: ClusterThresholds = DEFAULT_CLUSTER_THRESHOLDS,
): HealthVerdict {
  const last = counts.last;
  if (last === undefined)
    return { state: 'Unknown', reason: 'NeverProbed', message: 'The cluster has not been probed yet' };
  const detail = last.detail ? `: ${last.detail}` : '';
  const what = last.source === 'sync' ? 'tmc could not reach the cluster while syncing' : 'readyz failed';
  if (sustainedFailure(counts, last, thresholds)) {
    // The count is not in the message: it grows every probe, and a changing message would rewrite the SyncTarget.
    return {
      state: 'Unhealthy',
      reason: last.source === 'sync' ? 'SyncUnreachable' : 'ProbeFailed',
      message: `Checks have failed since ${counts.failingSince ?? last.at} with no success (${thresholds.unhealthyAfterFailures} or more, over ${thresholds.unhealthyGraceSeconds} s or more, health-probe among them); last: ${what}${detail}`,
    };
  }
  if (
    counts.previousState === 'Unhealthy' &&
    counts.consecutiveFailures === 0 &&
    counts.consecutiveSuccesses < thresholds.healthyAfterSuccesses
  ) {
    return {
      state: 'Unhealthy',
      reason: 'Recovering',
      message: `readyz answered; ${thresholds.healthyAfterSuccesses} consecutive successes are needed to recover`,
    };
  }
  if (counts.consecutiveFailures > 0) {
    return {
      state: 'Degraded',
      reason: 'ProbeFailing',
      message: `Checks are failing (Unhealthy once ${thresholds.unhealthyAfterFailures} or more fail over ${thresholds.unhealthyGraceSeconds} s with no success, health-probe's own among them): ${what}${detail}`,
    };
  }
  if (counts.latencyMs !== undefined && counts.latencyMs > thresholds.degradedLatencyMs) {
    return {
      state: 'Degraded',
      reason: 'HighLatency',
      message: `readyz answered slower than ${thresholds.degradedLatencyMs} ms`,
    };
  }
  return { state: 'Healthy', reason: 'ProbeSucceeded', message: 'readyz answered' };
}

/**
 * The item after one more observation: counts, state and reason, `since` moved only on a state change, history
 * bounded to the last {@link HEALTH_HISTORY_LIMIT}, version + 1. Probe observations set `lastProbeAt` and latency.
 */
export function observeCluster(
  previous: ClusterHealth | undefined,
  cluster: string,
  observation: HealthObservation,
  thresholds: ClusterThresholds = DEFAULT_CLUSTER_THRESHOLDS,
  workspace?: string,
): ClusterHealth {
  const consecutiveFailures = observation.ok ? 0 : (previous?.consecutiveFailures ?? 0) + 1;
  // Counted only as far as a rule reads it (Recovering): past that, one more success changes nothing stored.
  const consecutiveSuccesses = observation.ok
    ? Math.min((previous?.consecutiveSuccesses ?? 0) + 1, Math.max(1, thresholds.healthyAfterSuccesses))
    : 0;
  const latencyMs = observation.ok && observation.latencyMs !== undefined ? observation.latencyMs : previous?.latencyMs;
  const streak =
    previous === undefined || previous.consecutiveFailures === 0
      ? { failingSince: undefined, probeFailures: 0 }
      : previous.failingSince !== undefined
        ? { failingSince: previous.failingSince, probeFailures: previous.probeFailures ?? 0 }
        : streakFromHistory(previous);
  const failingSince = observation.ok ? undefined : (streak.failingSince ?? observation.at);
  const probeFailures = observation.ok ? 0 : streak.probeFailures + (isProbeFailure(observation) ? 1 : 0);
  const verdict = classifyCluster(
    {
      consecutiveFailures,
      consecutiveSuccesses,
      failingSince,
      probeFailures,
      latencyMs,
      previousState: previous?.state,
      last: observation,
    },
    thresholds,
  );
  const history = [...(previous?.history ?? []), observation].slice(-HEALTH_HISTORY_LIMIT);
  return {
    ...(previous ?? {}),
    cluster,
    workspace: workspace ?? previous?.workspace,
    state: verdict.state,
    reason: verdict.reason,
    message: verdict.message,
    since: previous !== undefined && previous.state === verdict.state ? previous.since : observation.at,
    consecutiveFailures,
    consecutiveSuccesses,
    failingSince,
    probeFailures,
    lastProbeAt: observation.source === 'probe' ? observation.at : previous?.lastProbeAt,
    latencyMs,
    history,
    version: (previous?.version ?? 0) + 1,
  };
}

/**
 * Whether writing `next` would change nothing a reader uses: a successful probe of a cluster whose last observation
 * was a successful probe too, with the same verdict, counts and streak. Then health-probe writes nothing (a settled
 * fleet costs no write per cluster per minute); what such a write would have refreshed, the probe's age, readers take
 * from health-probe's last successful run instead ({@link clusterVerdictAt}). `latencyMs` and `history` keep what the
 * last written observation said: a latency that crosses `degradedLatencyMs` changes the verdict, and is written.
 */
export function changesNothingReadersUse(previous: ClusterHealth | undefined, next: ClusterHealth): boolean {
  if (previous === undefined) return false;
  const observed = next.history[next.history.length - 1];
  const before = previous.history[previous.history.length - 1];
  if (observed === undefined || before === undefined) return false;
  if (!observed.ok || observed.source !== 'probe' || !before.ok || before.source !== 'probe') return false;
  return (
    previous.state === next.state &&
    previous.reason === next.reason &&
    previous.message === next.message &&
    previous.since === next.since &&
    previous.workspace === next.workspace &&
    previous.consecutiveFailures === next.consecutiveFailures &&
    previous.consecutiveSuccesses === next.consecutiveSuccesses &&
    previous.failingSince === next.failingSince &&
    (previous.probeFailures ?? 0) === (next.probeFailures ?? 0)
  );
}

/**
 * The cluster's state as a reader should see it at `now`: the stored verdict, unless nothing has probed it for
 * `staleAfterSeconds` — then Unknown, because the stored state describes the past, not the cluster.
 */
export function clusterVerdictAt(
  health: ClusterHealth | undefined,
  now: number,
  thresholds: ClusterThresholds = DEFAULT_CLUSTER_THRESHOLDS,
  probeRunAt?: string,
): HealthVerdict {
  if (health === undefined)
    return { state: 'Unknown', reason: 'NeverProbed', message: 'The cluster has not been probed yet' };
  const lastProbeAt = lastProbedAt(health, probeRunAt);
  const lastProbe = lastProbeAt === undefined ? undefined : Date.parse(lastProbeAt);
  if (lastProbe !== undefined && now - lastProbe > thresholds.staleAfterSeconds * 1000) {
    return {
      state: 'Unknown',
      reason: 'ProbeStale',
      message: `No probe since ${lastProbeAt} (last known state ${health.state})`,
    };
  }
  return { state: health.state, reason: health.reason, message: health.message ?? '' };
}

/**
 * When health-probe last probed the cluster: its item's `lastProbeAt`, or the end of health-probe's last successful
 * run when later (`probeRunAt`, the component's `lastSuccessAt`). A run succeeds only when it probed every registered
 * push cluster and recorded each observation, or found it would change nothing ({@link changesNothingReadersUse}).
 * A cluster never probed (pull mode, or only sync-apply's failures) stays without one.
 */
export function lastProbedAt(health: ClusterHealth, probeRunAt: string | undefined): string | undefined {
  if (health.lastProbeAt === undefined || probeRunAt === undefined) return health.lastProbeAt;
  return Date.parse(probeRunAt) > Date.parse(health.lastProbeAt) ? probeRunAt : health.lastProbeAt;
}

export interface ComponentThresholds {
  /** Length of one counting window (seconds); the error rate covers the current and the previous window. */
  windowSeconds: number;
  /** Invocations in the windows below which the error rate is not judged (one failure of two is not a trend). */
  minInvocations: number;
  degradedErrorRate: number;
  unhealthyErrorRate: number;
  degradedBacklogSeconds: number;
  unhealthyBacklogSeconds: number;
  /** Scheduled functions only: no success for this long is Unhealthy. Queue consumers are idle when queues are empty. */
  maxSilenceSeconds?: number;
}

export const DEFAULT_COMPONENT_THRESHOLDS: ComponentThresholds = {
  windowSeconds: 300,
  minInvocations: 5,
  degradedErrorRate: 0.1,
  unhealthyErrorRate: 0.5,
  degradedBacklogSeconds: 300,
  unhealthyBacklogSeconds: 900,
};

/** Thresholds for one function: scheduled ones must succeed at least once in three of their ticks. */
export function componentThresholdsFor(fn: FunctionName | string): ComponentThresholds {
  const ticks = SCHEDULES.filter((s) => s.target === fn).map((s) => s.rateSeconds);
  if (ticks.length === 0 || fn === 'status-up') return DEFAULT_COMPONENT_THRESHOLDS; // status-up is a queue consumer first
  return { ...DEFAULT_COMPONENT_THRESHOLDS, maxSilenceSeconds: 3 * Math.min(...ticks) };
}

/** Counts of the windows that are recent at `now` (current and previous; older windows are history). */
export function recentCounts(
  record: ComponentHealthRecord,
  now: number,
  windowSeconds: number,
): { invocations: number; errors: number } {
  const nowSeconds = Math.floor(now / 1000);
  const recent = (start: number | undefined): boolean => start !== undefined && start > nowSeconds - 2 * windowSeconds;
  let invocations = 0;
  let errors = 0;
  if (recent(record.windowStart)) {
    invocations += record.windowInvocations;
    errors += record.windowErrors;
  }
  if (recent(record.prevWindowStart)) {
    invocations += record.prevWindowInvocations;
    errors += record.prevWindowErrors;
  }
  return { invocations, errors };
}

/** A function's state from its counters: the component rule table of docs/health.md, first match wins. */
export function classifyComponent(
  record: ComponentHealthRecord | undefined,
  now: number,
  thresholds: ComponentThresholds = DEFAULT_COMPONENT_THRESHOLDS,
): HealthVerdict {
  if (record === undefined || record.lastInvocationAt === undefined) {
    return { state: 'Unknown', reason: 'NeverInvoked', message: 'The function has not reported an invocation yet' };
  }
  const { invocations, errors } = recentCounts(record, now, thresholds.windowSeconds);
  const rate = invocations >= thresholds.minInvocations ? errors / invocations : 0;
  const ratePercent = Math.round(rate * 100);
  const backlogFresh =
    record.backlogObservedAt !== undefined &&
    now - Date.parse(record.backlogObservedAt) <= 2 * thresholds.windowSeconds * 1000;
  const backlog = backlogFresh ? (record.backlogAgeSeconds ?? 0) : 0;
  if (rate >= thresholds.unhealthyErrorRate) {
    return {
      state: 'Unhealthy',
      reason: 'HighErrorRate',
      message: `${ratePercent}% of ${invocations} recent invocations failed`,
    };
  }
  if (thresholds.maxSilenceSeconds !== undefined) {
    const lastSuccess = record.lastSuccessAt === undefined ? undefined : Date.parse(record.lastSuccessAt);
    if (lastSuccess === undefined || now - lastSuccess > thresholds.maxSilenceSeconds * 1000) {
      return {
        state: 'Unhealthy',
        reason: 'NoRecentSuccess',
        message: `No successful run in ${thresholds.maxSilenceSeconds} s (last: ${record.lastSuccessAt ?? 'never'})`,
      };
    }
  }
  if (backlog >= thresholds.unhealthyBacklogSeconds) {
    return {
      state: 'Unhealthy',
      reason: 'BacklogAge',
      message: `The oldest waiting message is ${Math.round(backlog)} s old`,
    };
  }
  if (rate >= thresholds.degradedErrorRate) {
    return {
      state: 'Degraded',
      reason: 'ElevatedErrorRate',
      message: `${ratePercent}% of ${invocations} recent invocations failed`,
    };
  }
  if (backlog >= thresholds.degradedBacklogSeconds) {
    return {
      state: 'Degraded',
      reason: 'BacklogAge',
      message: `The oldest waiting message is ${Math.round(backlog)} s old`,
    };
  }
  return {
    state: 'Healthy',
    reason: 'Succeeding',
    message: invocations > 0 ? `${invocations} recent invocations, ${errors} failed` : 'No recent failures',
  };
}

export interface NamedVerdict extends HealthVerdict {
  name: string;
}

function names(items: NamedVerdict[], state: HealthState): string[] {
  return items.filter((i) => i.state === state).map((i) => i.name);
}

/**
 * tmc's overall health, first matching rule wins:
 * 1. any component Unhealthy → Unhealthy (tmc itself is failing);
 * 2. clusters exist and every one is Unhealthy → Unhealthy (nowhere to run work);
 * 3. any cluster Unhealthy → Degraded (its work is deferred or failing over; the rest runs);
 * 4. any component or cluster Degraded → Degraded;
 * 5. nothing has reported (all Unknown, or nothing at all) → Unknown;
 * 6. otherwise Healthy. Unknown entries alone never degrade the whole (a function that never ran is not failing).
 */
export function aggregateHealth(components: NamedVerdict[], clusters: NamedVerdict[]): HealthVerdict {
  const unhealthyComponents = names(components, 'Unhealthy');
  if (unhealthyComponents.length > 0) {
    return {
      state: 'Unhealthy',
      reason: 'ComponentUnhealthy',
      message: `Unhealthy components: ${unhealthyComponents.join(', ')}`,
    };
  }
  const unhealthyClusters = names(clusters, 'Unhealthy');
  if (clusters.length > 0 && unhealthyClusters.length === clusters.length) {
    return {
      state: 'Unhealthy',
      reason: 'AllClustersUnhealthy',
      message: `All ${clusters.length} cluster(s) are unhealthy: ${unhealthyClusters.join(', ')}`,
    };
  }
  if (unhealthyClusters.length > 0) {
    return {
      state: 'Degraded',
      reason: 'ClusterUnhealthy',
      message: `Unhealthy clusters: ${unhealthyClusters.join(', ')}`,
    };
  }
  const degraded = [
    ...names(components, 'Degraded').map((n) => `component ${n}`),
    ...names(clusters, 'Degraded').map((n) => `cluster ${n}`),
  ];
  if (degraded.length > 0)
    return { state: 'Degraded', reason: 'Degraded', message: `Degraded: ${degraded.join(', ')}` };
  const known = [...components, ...clusters].filter((i) => i.state !== 'Unknown');
  if (known.length === 0)
    return { state: 'Unknown', reason: 'NothingReported', message: 'No component or cluster has reported yet' };
  return {
    state: 'Healthy',
    reason: 'AllHealthy',
    message: `${names(components, 'Healthy').length} component(s) and ${names(clusters, 'Healthy').length} cluster(s) healthy`,
  };
}
