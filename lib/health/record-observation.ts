import { ConflictError } from '../errors/tmc-error';
import type { HealthStore } from '../ports/health-store';
import type { ClusterHealth, HealthObservation } from './cluster-health';
import { DEFAULT_CLUSTER_THRESHOLDS, observeCluster, type ClusterThresholds } from './rules';

/** What one observation did to a cluster's health. */
export interface ClusterHealthChange {
  previous: ClusterHealth | undefined;
  next: ClusterHealth;
  /** The state changed (any state, e.g. Healthy → Degraded). */
  stateChanged: boolean;
  /** Unhealthy-ness changed (entered or left Unhealthy): placement must look at this cluster again. */
  unhealthyChanged: boolean;
}

const MAX_ATTEMPTS = 5;

/**
 * Records one observation of a cluster: read, apply the rules, write conditionally on the version read; on a lost race
 * (health-probe and sync-apply writing at once) read again and re-apply, so no observation is lost or counted twice.
 */
export async function recordClusterObservation(
  store: HealthStore,
  cluster: string,
  observation: HealthObservation,
  options: { thresholds?: ClusterThresholds; workspace?: string } = {},
): Promise<ClusterHealthChange> {
  for (let attempt = 1; ; attempt += 1) {
    const previous = await store.getCluster(cluster);
    const next = observeCluster(
      previous,
      cluster,
      observation,
      options.thresholds ?? DEFAULT_CLUSTER_THRESHOLDS,
      options.workspace,
    );
    if (await store.putCluster(next, previous?.version ?? 0)) {
      return {
        previous,
        next,
        stateChanged: previous?.state !== next.state,
        unhealthyChanged: (previous?.state === 'Unhealthy') !== (next.state === 'Unhealthy'),
      };
    }
    if (attempt >= MAX_ATTEMPTS) {
      throw new ConflictError(
        `Cluster health of ${cluster} kept changing under ${MAX_ATTEMPTS} attempts to record an observation`,
        { cluster },
      );
    }
  }
}
