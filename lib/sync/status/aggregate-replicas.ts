import { allClustersCondition, conditionOf, observedKcpGeneration, sumFields } from './status-fields';
import type { AggregateInput, AggregateStatus, StatusCondition } from './types';

const DEPLOYMENT_FIELDS = [
  'replicas',
  'readyReplicas',
  'availableReplicas',
  'updatedReplicas',
  'unavailableReplicas',
] as const;
const STATEFULSET_FIELDS = [
  'replicas',
  'readyReplicas',
  'availableReplicas',
  'updatedReplicas',
  'currentReplicas',
] as const;
const REPLICASET_FIELDS = ['replicas', 'readyReplicas', 'availableReplicas', 'fullyLabeledReplicas'] as const;

function withGeneration(status: AggregateStatus, input: AggregateInput): AggregateStatus {
  const observed = observedKcpGeneration(input.generation, input.clusters);
  return observed === undefined ? status : { ...status, observedGeneration: observed };
}

/**
 * Deployment: replica counts summed; Available only when every placed cluster is available; Progressing False as
 * soon as one cluster's rollout is stuck (ProgressDeadlineExceeded), so a partial failure is never hidden.
 */
export function aggregateDeployment(input: AggregateInput): AggregateStatus {
  const conditions: StatusCondition[] = [
    allClustersCondition('Available', input.clusters, 'AllClustersAvailable', 'ClustersUnavailable'),
  ];
  const stuck = input.clusters.filter((c) => conditionOf(c, 'Progressing')?.status === 'False');
  if (stuck.length) {
    conditions.push({
      type: 'Progressing',
      status: 'False',
      reason: conditionOf(stuck[0], 'Progressing')?.reason ?? 'ClustersNotProgressing',
      message: `Rollout not progressing on ${stuck.map((c) => c.cluster).join(', ')}`,
    });
  } else {
    conditions.push(allClustersCondition('Progressing', input.clusters, 'AllClustersProgressing', 'ClustersPending'));
  }
  return withGeneration({ ...sumFields(input.clusters, DEPLOYMENT_FIELDS), conditions }, input);
}

export function aggregateStatefulSet(input: AggregateInput): AggregateStatus {
  return withGeneration(sumFields(input.clusters, STATEFULSET_FIELDS), input);
}

export function aggregateReplicaSet(input: AggregateInput): AggregateStatus {
  return withGeneration(sumFields(input.clusters, REPLICASET_FIELDS), input);
}
