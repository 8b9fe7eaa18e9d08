/** One placed cluster's contribution to an aggregate. A placed cluster with no status yet has `status` undefined. */
export interface ClusterStatusInput {
  cluster: string;
  /** The downstream object's `.status`, as last observed; undefined when nothing was observed yet. */
  status?: Record<string, unknown>;
  /** The kcp generation tmc last applied to this cluster (the GENERATION annotation it wrote). */
  appliedGeneration?: number;
  /** The downstream metadata.generation the cluster gave that apply. */
  downstreamGeneration?: number;
  /** The replicas placement asked this cluster to run (its share, or a whole copy); undefined: `spec.replicas`. */
  desiredReplicas?: number;
}

export interface AggregateInput {
  kind: string;
  /** The kcp object's metadata.generation. */
  generation?: number;
  /** Every cluster the object is placed on, in a stable order. */
  clusters: ClusterStatusInput[];
  /** The kcp object's spec.replicas, for kinds that have it. */
  specReplicas?: number;
  /**
   * Placement's replica mode: `Duplicated` (every cluster runs a whole copy) or `Divided` (the clusters share
   * spec.replicas). Undefined for objects without replicas and for decisions recorded before the mode was.
   */
  replicaMode?: 'Duplicated' | 'Divided';
}

export interface StatusCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** A kind's aggregate: the fields to merge into the kcp object's `.status`. */
export type AggregateStatus = Record<string, unknown>;

export type Aggregator = (input: AggregateInput) => AggregateStatus;
