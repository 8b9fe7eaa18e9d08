import type { KubeObject } from '../kube/object';
import type { JsonPatchOperation, Location, Placement, Taint } from '../api/crds';

/** Health as the health system records it (`CLUSTER#<name>/HEALTH`); a cluster with no record yet is Unknown. */
export type HealthState = 'Healthy' | 'Degraded' | 'Unhealthy' | 'Unknown';

/** Resources in base units: cpu in cores, memory in bytes, pods as a count. Absent means "not known". */
export interface Resources {
  cpu?: number;
  memory?: number;
  pods?: number;
}

/** One SyncTarget as the engine sees it: the mirror in DynamoDB merged with its health record. */
export interface ClusterInfo {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
  unschedulable: boolean;
  health: HealthState;
  /** Epoch ms since the cluster has been Unhealthy; with evictAfterSeconds decides when placed work must leave. */
  unhealthySince?: number;
  /** Epoch ms since the cluster has been in its current state when that is not Unhealthy (it returned then, at the latest). */
  availableSince?: number;
  evictAfterSeconds?: number;
  /** Kinds reaching beyond one tenant that may be placed here (SyncTarget `spec.allowedRiskyKinds`). */
  allowedRiskyKinds?: string[];
  capacity?: Resources;
  allocatable?: Resources;
  /** What is already committed on the cluster (requests of running work). */
  allocated?: Resources;
}

export interface DecisionCluster {
  name: string;
  /** The replicas this cluster runs (`spec.replicas` downstream), when the object has replicas. */
  replicas?: number;
  /** RFC 6902 operations sync-apply applies to the downstream copy, resolved from the Placement's overrides. */
  patch?: JsonPatchOperation[];
}

/** Weighted score components of one feasible cluster. One fixed shape: V8 keeps a thousand of them cheap. */
export interface ClusterScores {
  health: number;
  affinity: number;
  strategy: number;
  headroom: number;
  taints: number;
  namespaceHash: number;
  stability: number;
}

export interface ClusterExplanation {
  cluster: string;
  chosen: boolean;
  /** The filter that rejected the cluster (`clusterConstraints.regions`, `taints`, `capacity`, …). */
  rejectedBy?: string;
  /** A sentence a person can act on: `region us-east-1 not in [eu-west-1]`. */
  detail?: string;
  /** Weighted score components of a feasible cluster; absent when a filter rejected it. */
  scores?: ClusterScores;
  total: number;
}

export type DecisionReason =
  | 'Scheduled'
  | 'PartiallyScheduled'
  | 'Unschedulable'
  | 'NoMatchingPlacement'
  | 'NoClusters'
  /** Kept on clusters it would leave: the mass-deletion guard holds removals there (lib/placement/removal-gate.ts). */
  | 'DeletionHeld'
  | 'Deleted';

export interface Decision {
  clusters: DecisionCluster[];
  scheduled: boolean;
  reason: DecisionReason;
  message: string;
  /** The Placement that decided, or `(default)` when the workspace has none. */
  placement?: string;
  explanation: ClusterExplanation[];
  /** The weights behind `scores`, so an explanation can be read without the code. */
  weights: Record<string, number>;
  /** The Placement's `spec.rebalance.token` this decision honoured, so a token rebalances once. */
  rebalanceToken?: string;
  /**
   * For an object with replicas: whether every cluster runs a whole copy (`Duplicated`) or the clusters share
   * `spec.replicas` (`Divided`). Status aggregation reads it to make READY mean the same in both (docs/syncer.md).
   */
  replicaMode?: ReplicaMode;
}

export type ReplicaMode = 'Duplicated' | 'Divided';

/** What the engine needs of a previous decision. */
export interface PreviousDecision {
  clusters: Array<{ name: string; replicas?: number }>;
  rebalanceToken?: string;
}

export interface DecideInput {
  object: KubeObject;
  /** Labels of the object's namespace (for namespaceSelector); absent for cluster-scoped objects. */
  namespaceLabels?: Record<string, string>;
  /** Every Placement of the workspace; the engine finds which applies. */
  policies: Placement[];
  locations: Location[];
  clusters: ClusterInfo[];
  previous?: PreviousDecision;
  /**
   * Where the object's namespace is placed (its Namespace's decision). An object governed by the default placement
   * or by a Placement without objectSelectors goes only there, so a namespace and its workloads stay together (kcp
   * TMC: the namespace is scheduled, its objects follow). Absent: the object is decided on its own.
   */
  namespaceClusters?: string[];
  /**
   * Where the workspace's namespaces are placed (the union of their decisions' clusters). A cluster-scoped object no
   * Placement's objectSelectors name goes to all of them and nowhere else; absent counts as none.
   */
  workspaceClusters?: string[];
  options?: DecideOptions;
}

export interface DecideOptions {
  /** Epoch ms; for NoExecute tolerationSeconds and evictAfter. Defaults to Date.now(). */
  now?: number;
}
