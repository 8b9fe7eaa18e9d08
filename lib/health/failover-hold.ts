import type { HealthState } from './cluster-health';

/**
 * Hub-side disruption: when most of a workspace's clusters turn Unhealthy together, the likelier cause is tmc's own
 * reach (a starved hub, its network, its credentials store), not that many clusters died at once. Failing them over
 * would move work onto the few left, or onto nothing, on evidence that describes the hub. kube's node lifecycle
 * controller does the same (`--unhealthy-zone-threshold` 0.55: a zone whose not-Ready share passes it, or with no
 * Ready node at all, stops evicting and assumes its own connectivity is the problem). Health stays true to the
 * observations (the clusters read Unhealthy); only the moving of placed work is held, until the share drops.
 */
export interface FailoverHoldSettings {
  /** Share (0..1) of a workspace's clusters Unhealthy at once at or above which failover is held. */
  share: number;
  /**
   * Fewest Unhealthy clusters that can be a hub-side disruption. One cluster down is what failover exists for,
   * however small the workspace; two of two or two of three down together is more likely the hub than a coincidence,
   * and failing two of three over onto the third would crowd it with work it may not fit. kube counts more than
   * two nodes for its partial mode, but tmc's workspaces have a handful of clusters, not hundreds of nodes.
   */
  minClusters: number;
}

export const DEFAULT_FAILOVER_HOLD: FailoverHoldSettings = { share: 0.55, minClusters: 2 };

export interface FailoverHold {
  held: boolean;
  /** The workspace's Unhealthy clusters, sorted. */
  unhealthy: string[];
  /** How many clusters the workspace has. */
  total: number;
  /** A sentence naming the clusters and what to do; empty when not held. */
  message: string;
}

/** Whether failover is held for a workspace whose clusters (all of them, each with its health) are given. */
export function failoverHold(
  clusters: ReadonlyArray<{ name: string; health: HealthState }>,
  settings: FailoverHoldSettings = DEFAULT_FAILOVER_HOLD,
): FailoverHold {
  const unhealthy = clusters
    .filter((c) => c.health === 'Unhealthy')
    .map((c) => c.name)
    .sort();
  const total = clusters.length;
  const held = unhealthy.length >= Math.max(1, settings.minClusters) && unhealthy.length / total >= settings.share;
  const percent = Math.round(settings.share * 100);
  return {
    held,
    unhealthy,
    total,
    message: held
      ? `Failover held: ${unhealthy.length} of ${total} clusters are Unhealthy at once (${unhealthy.join(', ')}), at ` +
        `least ${percent}% of the workspace, which points at tmc's own reach rather than the clusters. Check the hub ` +
        `(its functions' health, network and credentials); if the clusters are really down, cordon them or taint them ` +
        `NoExecute to move their work. Failover resumes by itself once fewer than ${percent}% are Unhealthy`
      : '',
  };
}

/**
 * The workspace's clusters with `failoverHeld` set on each Unhealthy one while a hold is in force: placement and the
 * recovery sweep read it and leave placed work where it runs (new work still avoids an Unhealthy cluster).
 */
export function markFailoverHold<T extends { name: string; health: HealthState; failoverHeld?: boolean }>(
  clusters: T[],
  settings: FailoverHoldSettings = DEFAULT_FAILOVER_HOLD,
): T[] {
  if (!failoverHold(clusters, settings).held) return clusters;
  return clusters.map((c) => (c.health === 'Unhealthy' ? { ...c, failoverHeld: true } : c));
}
