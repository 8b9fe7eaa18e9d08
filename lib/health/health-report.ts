import { systemClock, type Clock } from '../ports/clock';
import type { CircuitRecord, CircuitStore } from '../ports/circuit-store';
import type { HealthStore } from '../ports/health-store';
import { FUNCTIONS } from '../runtime/resources';
import type { HealthObservation, HealthState } from './cluster-health';
import {
  aggregateHealth,
  classifyComponent,
  clusterVerdictAt,
  componentThresholdsFor,
  DEFAULT_CLUSTER_THRESHOLDS,
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
  const clusterReports = clusters.map((c): ClusterReport => ({
    name: c.cluster,
    ...clusterVerdictAt(c, now, thresholds),
    since: c.since,
    consecutiveFailures: c.consecutiveFailures,
    lastProbeAt: c.lastProbeAt,
    latencyMs: c.latencyMs,
    workspace: c.workspace,
  }));
  return {
    ...aggregateHealth(components, clusterReports),
    checkedAt: new Date(now).toISOString(),
    components,
    clusters: clusterReports,
  };
}

/** One cluster's report, or undefined when tmc has no health item for it. */
export async function buildClusterReport(
  deps: HealthReportDeps,
  name: string,
): Promise<ClusterDetailReport | undefined> {
  const now = (deps.now ?? systemClock)();
  const [health, circuit] = await Promise.all([deps.store.getCluster(name), deps.circuits?.get(name)]);
  if (health === undefined) return undefined;
  return {
    name,
    ...clusterVerdictAt(health, now, deps.thresholds ?? DEFAULT_CLUSTER_THRESHOLDS),
    since: health.since,
    consecutiveFailures: health.consecutiveFailures,
    lastProbeAt: health.lastProbeAt,
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
