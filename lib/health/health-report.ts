import { systemClock, type Clock } from '../ports/clock';
import type { CircuitRecord, CircuitStore } from '../ports/circuit-store';
import type { HealthStore } from '../ports/health-store';
import { FUNCTIONS } from '../runtime/resources';
import type { HealthObservation, HealthState } from './cluster-health';
import { failoverHold, type FailoverHoldSettings } from './failover-hold';
import {
  aggregateHealth,
  classifyComponent,
  clusterVerdictAt,
  componentThresholdsFor,
  DEFAULT_CLUSTER_THRESHOLDS,
  lastProbedAt,
  recentCounts,
  type ClusterThresholds,
} from './rules';

export interface ComponentReport {
  name: string;
  state: HealthState;
  reason: string;
  message: string;
  lastInvocationAt?: string;
  lastSuccessAt?: string;
  recentInvocations: number;
  recentErrors: number;
  backlogAgeSeconds?: number;
}

export interface ClusterReport {
  name: string;
  state: HealthState;
  reason: string;
  message: string;
  since?: string;
  consecutiveFailures: number;
  lastProbeAt?: string;
  latencyMs?: number;
  workspace?: string;
}

/** `GET /health`: the overall verdict with every component and cluster behind it. */
export interface HealthReport {
  state: HealthState;
  reason: string;
  message: string;
  checkedAt: string;
  components: ComponentReport[];
  clusters: ClusterReport[];
  /** Workspaces whose failover is held: most of their clusters Unhealthy at once (lib/health/failover-hold.ts). */
  failoverHolds: FailoverHoldReport[];
}

export interface FailoverHoldReport {
  workspace: string;
  clusters: string[];
  message: string;
}

/** `GET /health/clusters/{name}`: one cluster with its history and circuit. */
export interface ClusterDetailReport extends ClusterReport {
  history: HealthObservation[];
  circuit?: Pick<CircuitRecord, 'state' | 'failures' | 'openedAt' | 'lastFailure' | 'updatedAt'>;
}

export interface HealthReportDeps {
  store: HealthStore;
  circuits?: CircuitStore;
  thresholds?: ClusterThresholds;
  failoverHold?: FailoverHoldSettings;
  now?: Clock;
}

/**
 * Builds the aggregate from the stored items (the functions' items by key, the clusters' by a Query on gsi1). Every
 * function in FUNCTIONS is listed, so one that never reported shows as Unknown instead of being missing.
 */
export async function buildHealthReport(deps: HealthReportDeps): Promise<HealthReport> {
  const now = (deps.now ?? systemClock)();
  const thresholds = deps.thresholds ?? DEFAULT_CLUSTER_THRESHOLDS;
  const [records, clusters] = await Promise.all([
    deps.store.listComponents(Object.keys(FUNCTIONS)),
    deps.store.listClusters(),
  ]);
  const components = Object.keys(FUNCTIONS).map((name): ComponentReport => {
    const record = records.find((r) => r.component === name);
    const verdict = classifyComponent(record, now, componentThresholdsFor(name));
    const counts =
      record === undefined
        ? { invocations: 0, errors: 0 }
        : recentCounts(record, now, componentThresholdsFor(name).windowSeconds);
    return {
      name,
      ...verdict,
      lastInvocationAt: record?.lastInvocationAt,
      lastSuccessAt: record?.lastSuccessAt,
      recentInvocations: counts.invocations,
      recentErrors: counts.errors,
      backlogAgeSeconds: record?.backlogAgeSeconds,
    };
  });
  // A settled probe writes no cluster item: its age is its last successful run's (rules.ts, lastProbedAt).
  const probeRunAt = records.find((r) => r.component === 'health-probe')?.lastSuccessAt;
  const clusterReports = clusters.map((c): ClusterReport => ({
    name: c.cluster,
    ...clusterVerdictAt(c, now, thresholds, probeRunAt),
    since: c.since,
    consecutiveFailures: c.consecutiveFailures,
    lastProbeAt: lastProbedAt(c, probeRunAt),
    latencyMs: c.latencyMs,
    workspace: c.workspace,
  }));
  const failoverHolds = holdsOf(clusterReports, deps.failoverHold);
  const aggregate = aggregateHealth(components, clusterReports);
  return {
    // A hold outranks the clusters' own rules (not a failing component): it is what an operator must look at first.
    ...(failoverHolds.length > 0 && aggregate.reason !== 'ComponentUnhealthy'
      ? {
          state: aggregate.state,
          reason: 'FailoverHeld',
          message: failoverHolds.map((h) => `${h.workspace}: ${h.message}`).join('; '),
        }
      : aggregate),
    checkedAt: new Date(now).toISOString(),
    components,
    clusters: clusterReports,
    failoverHolds,
  };
}

/** The hold of each workspace the clusters' items name, judged as placement and the sweep judge it. */
function holdsOf(clusters: ClusterReport[], settings: FailoverHoldSettings | undefined): FailoverHoldReport[] {
  const byWorkspace = new Map<string, Array<{ name: string; health: HealthState }>>();
  for (const c of clusters) {
    if (c.workspace === undefined) continue;
    byWorkspace.set(c.workspace, [...(byWorkspace.get(c.workspace) ?? []), { name: c.name, health: c.state }]);
  }
  const holds: FailoverHoldReport[] = [];
  for (const [workspace, members] of [...byWorkspace].sort(([a], [b]) => a.localeCompare(b))) {
    const hold = failoverHold(members, settings);
    if (hold.held) holds.push({ workspace, clusters: hold.unhealthy, message: hold.message });
  }
  return holds;
}

/** One cluster's report, or undefined when tmc has no health item for it. */
export async function buildClusterReport(
  deps: HealthReportDeps,
  name: string,
): Promise<ClusterDetailReport | undefined> {
  const now = (deps.now ?? systemClock)();
  const [health, circuit, probe] = await Promise.all([
    deps.store.getCluster(name),
    deps.circuits?.get(name),
    deps.store.getComponent('health-probe'),
  ]);
  if (health === undefined) return undefined;
  return {
    name,
    ...clusterVerdictAt(health, now, deps.thresholds ?? DEFAULT_CLUSTER_THRESHOLDS, probe?.lastSuccessAt),
    since: health.since,
    consecutiveFailures: health.consecutiveFailures,
    lastProbeAt: lastProbedAt(health, probe?.lastSuccessAt),
    latencyMs: health.latencyMs,
    workspace: health.workspace,
    history: health.history,
    ...(circuit === undefined
      ? {}
      : {
          circuit: {
            state: circuit.state,
            failures: circuit.failures,
            openedAt: circuit.openedAt,
            lastFailure: circuit.lastFailure,
            updatedAt: circuit.updatedAt,
          },
        }),
  };
}
