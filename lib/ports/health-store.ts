import type { ClusterHealth, ComponentHealthRecord } from '../health/cluster-health';

/** One function invocation as reported by `recordInvocation`. */
export interface InvocationOutcome {
  /** Whether the last of the counted invocations succeeded (it sets lastSuccessAt or lastErrorAt). */
  ok: boolean;
  /** Epoch milliseconds. */
  at: number;
  /** Invocations counted by this report (a container reports its invocations in batches); 1 when omitted. */
  invocations?: number;
  /** How many of them failed; `ok ? 0 : 1` when omitted. */
  errors?: number;
  /** Age of the oldest message the invocation handled (queue consumers), in seconds. */
  backlogAgeSeconds?: number;
}

/** Five-minute windows for component error rates (see docs/health.md). */
export const COMPONENT_WINDOW_SECONDS = 300;

/** Where cluster and component health live (items `CLUSTER#<name>/HEALTH`, `COMPONENT#<fn>/HEALTH`). */
export interface HealthStore {
  getCluster(cluster: string): Promise<ClusterHealth | undefined>;
  listClusters(): Promise<ClusterHealth[]>;
  /** Writes only when the stored version is `expectedVersion` (0: only when absent); false when another writer won. */
  putCluster(next: ClusterHealth, expectedVersion: number): Promise<boolean>;
  /** Forgets a cluster that is no longer registered, only if still at `expectedVersion`; false when a writer won. */
  deleteCluster(cluster: string, expectedVersion: number): Promise<boolean>;
  /** Counts one invocation: cheap (one UpdateItem almost always), never read-modify-write. */
  recordInvocation(component: string, outcome: InvocationOutcome): Promise<void>;
  getComponent(component: string): Promise<ComponentHealthRecord | undefined>;
  /** The records of the named components (the functions tmc deploys), by name; one never recorded is left out. */
  listComponents(names: readonly string[]): Promise<ComponentHealthRecord[]>;
}

/** Epoch seconds at the start of the window holding `at` (epoch ms). */
export function windowStartOf(at: number): number {
  const seconds = Math.floor(at / 1000);
  return seconds - (seconds % COMPONENT_WINDOW_SECONDS);
}

/** Applies one invocation to a component record: the same arithmetic the DynamoDB adapter expresses as updates. */
/** The counts a report adds: one invocation unless it says more. */
export function invocationCounts(outcome: InvocationOutcome): { invocations: number; errors: number } {
  return { invocations: outcome.invocations ?? 1, errors: outcome.errors ?? (outcome.ok ? 0 : 1) };
}

export function applyInvocation(
  record: ComponentHealthRecord | undefined,
  component: string,
  outcome: InvocationOutcome,
): ComponentHealthRecord {
  const start = windowStartOf(outcome.at);
  const { invocations: count, errors: error } = invocationCounts(outcome);
  const at = new Date(outcome.at).toISOString();
  const base: ComponentHealthRecord = record ?? {
    component,
    invocations: 0,
    errors: 0,
    windowInvocations: 0,
    windowErrors: 0,
    prevWindowInvocations: 0,
    prevWindowErrors: 0,
  };
  const next: ComponentHealthRecord = {
    ...base,
    lastInvocationAt: at,
    invocations: base.invocations + count,
    errors: base.errors + error,
    ...(outcome.ok ? { lastSuccessAt: at } : { lastErrorAt: at }),
    ...(outcome.backlogAgeSeconds === undefined
      ? {}
      : { backlogAgeSeconds: outcome.backlogAgeSeconds, backlogObservedAt: at }),
  };
  if (base.windowStart === start)
    return { ...next, windowInvocations: base.windowInvocations + count, windowErrors: base.windowErrors + error };
  if (base.windowStart !== undefined && base.windowStart > start) return next; // a late report from a skewed clock: totals only
  return {
    ...next,
    prevWindowStart: base.windowStart,
    prevWindowInvocations: base.windowInvocations,
    prevWindowErrors: base.windowErrors,
    windowStart: start,
    windowInvocations: count,
    windowErrors: error,
  };
}

/** A HealthStore in memory, for unit tests and for tests of other components that record invocations. */
export class InMemoryHealthStore implements HealthStore {
  private readonly clusters = new Map<string, ClusterHealth>();
  private readonly components = new Map<string, ComponentHealthRecord>();

  async getCluster(cluster: string): Promise<ClusterHealth | undefined> {
    const found = this.clusters.get(cluster);
    return found === undefined ? undefined : structuredClone(found);
  }

  async listClusters(): Promise<ClusterHealth[]> {
    return [...this.clusters.values()]
      .map((c) => structuredClone(c))
      .sort((a, b) => a.cluster.localeCompare(b.cluster));
  }

  async putCluster(next: ClusterHealth, expectedVersion: number): Promise<boolean> {
    if ((this.clusters.get(next.cluster)?.version ?? 0) !== expectedVersion) return false;
    this.clusters.set(next.cluster, structuredClone(next));
    return true;
  }

  async deleteCluster(cluster: string, expectedVersion: number): Promise<boolean> {
    if (this.clusters.get(cluster)?.version !== expectedVersion) return false;
    this.clusters.delete(cluster);
    return true;
  }

  async recordInvocation(component: string, outcome: InvocationOutcome): Promise<void> {
    this.components.set(component, applyInvocation(this.components.get(component), component, outcome));
  }

  async getComponent(component: string): Promise<ComponentHealthRecord | undefined> {
    return this.components.get(component);
  }

  async listComponents(names: readonly string[]): Promise<ComponentHealthRecord[]> {
    return [...this.components.values()]
      .filter((c) => names.includes(c.component))
      .sort((a, b) => a.component.localeCompare(b.component));
  }
}
