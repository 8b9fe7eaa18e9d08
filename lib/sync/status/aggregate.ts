import { aggregateDaemonSet } from './aggregate-daemonset';
import { aggregateGeneric } from './aggregate-generic';
import { aggregateJob } from './aggregate-job';
import { aggregateDeployment, aggregateReplicaSet, aggregateStatefulSet } from './aggregate-replicas';
import { aggregateService } from './aggregate-service';
import type { AggregateInput, AggregateStatus, Aggregator } from './types';

const BY_KIND: Record<string, Aggregator> = {
  Deployment: aggregateDeployment,
  StatefulSet: aggregateStatefulSet,
  ReplicaSet: aggregateReplicaSet,
  // The same status fields as a ReplicaSet (replicas, readyReplicas, availableReplicas, fullyLabeledReplicas).
  ReplicationController: aggregateReplicaSet,
  DaemonSet: aggregateDaemonSet,
  Job: aggregateJob,
  Service: aggregateService,
};

/** Kinds without a status subresource: nothing to aggregate, only the per-cluster annotation is written. */
const NO_STATUS_KINDS = new Set([
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'Endpoints',
  'Namespace',
  'LimitRange',
  'StorageClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  // kcp's own controller writes a CRD's status (Established, acceptedNames, storedVersions); a cluster's copy must not.
  'CustomResourceDefinition',
  // Its status (phase, message, reason) is each cluster's own and has no conditions: the server would drop tmc's.
  'PersistentVolume',
]);

/** Whether the kind's status can carry tmc's conditions; for the others they go to an annotation (report-status). */
export function statusHoldsConditions(kind: string): boolean {
  return !NO_STATUS_KINDS.has(kind);
}

/** The aggregate `.status` for the kcp object, or undefined for kinds that have no status to write. */
export function aggregateStatus(input: AggregateInput): AggregateStatus | undefined {
  if (NO_STATUS_KINDS.has(input.kind)) return undefined;
  return (BY_KIND[input.kind] ?? aggregateGeneric)(input);
}
