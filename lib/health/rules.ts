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
  /** A successful probe slower than this makes the cluster Degraded. */
  degradedLatencyMs: number;
  /** Consecutive successful probes an Unhealthy cluster needs before it is Healthy again (hysteresis). */
  healthyAfterSuccesses: number;
  /** A cluster whose last probe is older than this reads as Unknown (the probe itself is not running). */
  staleAfterSeconds: number;
}

export const DEFAULT_CLUSTER_THRESHOLDS: ClusterThresholds = {
  unhealthyAfterFailures: 3,
  degradedLatencyMs: 1_000,
  healthyAfterSuccesses: 1,
  // Five schedule ticks of health-probe (60 s): one missed tick is noise, five is an outage of the probe.
  staleAfterSeconds: 300,
};

interface ClusterCounts {
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  latencyMs?: number;
  previousState?: HealthState;
  last?: HealthObservation;
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
  if (counts.consecutiveFailures >= thresholds.unhealthyAfterFailures) {
    // The count is not in the message: it grows every probe, and a changing message would rewrite the SyncTarget.
    return {
      state: 'Unhealthy',
      reason: last.source === 'sync' ? 'SyncUnreachable' : 'ProbeFailed',
      message: `${thresholds.unhealthyAfterFailures} or more consecutive checks failed; last: ${what}${detail}`,
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
      message: `The last check failed (${thresholds.unhealthyAfterFailures} consecutive failures make it Unhealthy): ${what}${detail}`,
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
  const consecutiveSuccesses = observation.ok ? (previous?.consecutiveSuccesses ?? 0) + 1 : 0;
  const latencyMs = observation.ok && observation.latencyMs !== undefined ? observation.latencyMs : previous?.latencyMs;
  const verdict = classifyCluster(
    { consecutiveFailures, consecutiveSuccesses, latencyMs, previousState: previous?.state, last: observation },
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
    lastProbeAt: observation.source === 'probe' ? observation.at : previous?.lastProbeAt,
    latencyMs,
    history,
    version: (previous?.version ?? 0) + 1,
  };
}

/**
 * The cluster's state as a reader should see it at `now`: the stored verdict, unless nothing has probed it for
 * `staleAfterSeconds` — then Unknown, because the stored state describes the past, not the cluster.
 */
export function clusterVerdictAt(
  health: ClusterHealth | undefined,
  now: number,
  thresholds: ClusterThresholds = DEFAULT_CLUSTER_THRESHOLDS,
): HealthVerdict {
  if (health === undefined)
    return { state: 'Unknown', reason: 'NeverProbed', message: 'The cluster has not been probed yet' };
  const lastProbe = health.lastProbeAt === undefined ? undefined : Date.parse(health.lastProbeAt);
  if (lastProbe !== undefined && now - lastProbe > thresholds.staleAfterSeconds * 1000) {
    return {
      state: 'Unknown',
      reason: 'ProbeStale',
      message: `No probe since ${health.lastProbeAt} (last known state ${health.state})`,
    };
  }
  return { state: health.state, reason: health.reason, message: health.message ?? '' };
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
