import { allClustersCondition, conditionOf, numberField, observedKcpGeneration, sumFields } from './status-fields';
import type { AggregateInput, AggregateStatus, ClusterStatusInput, StatusCondition } from './types';

/**
 * A workload kind's replica counts: `progress` counts grow toward the desired number (ready, available, updated),
 * `spread` counts can exceed it or count trouble (`replicas` includes surge and terminating pods, `unavailable`).
 */
interface ReplicaFields {
  progress: readonly string[];
  spread: readonly string[];
}

const DEPLOYMENT_FIELDS: ReplicaFields = {
  progress: ['readyReplicas', 'availableReplicas', 'updatedReplicas'],
  spread: ['replicas', 'unavailableReplicas'],
};
const STATEFULSET_FIELDS: ReplicaFields = {
  progress: ['readyReplicas', 'availableReplicas', 'updatedReplicas', 'currentReplicas'],
  spread: ['replicas'],
};
const REPLICASET_FIELDS: ReplicaFields = {
  progress: ['readyReplicas', 'availableReplicas', 'fullyLabeledReplicas'],
  spread: ['replicas'],
};

/**
 * The counts kcp's `.status` shows, so that READY (`readyReplicas/spec.replicas`) compares like with like:
 * - Divided: the clusters share spec.replicas, so every count is summed over them.
 * - Duplicated: every cluster runs a whole copy of spec.replicas, so a progress count is the least advanced copy's
 *   (READY 3/3 means every copy has 3 ready, 2/3 that some copy lacks one) and a spread count the largest copy's
 *   (`replicas` above `updatedReplicas` on any copy keeps `kubectl rollout status` waiting for old pods).
 * A decision recorded without a mode (before tmc recorded it) keeps the sums.
 */
function replicaCounts(input: AggregateInput, fields: ReplicaFields): Record<string, number> {
  if (input.replicaMode !== 'Duplicated') return sumFields(input.clusters, [...fields.spread, ...fields.progress]);
  const of = (key: string): number[] => input.clusters.map((c) => numberField(c.status, key));
  const counts: Record<string, number> = {};
  for (const key of fields.spread) counts[key] = input.clusters.length ? Math.max(...of(key)) : 0;
  for (const key of fields.progress) counts[key] = input.clusters.length ? Math.min(...of(key)) : 0;
  return counts;
}

function copyFigure(c: ClusterStatusInput, specReplicas: number | undefined): string {
  if (!c.status) return `${c.cluster} no status yet`;
  const desired = c.desiredReplicas ?? specReplicas;
  return `${c.cluster} ${numberField(c.status, 'readyReplicas')}/${desired ?? '?'}`;
}

/**
 * `ClusterReplicas`: each cluster's ready replicas against what placement asked it to run, and what the counts in
 * `.status` mean; True when every cluster runs all it should. Absent when the decision recorded no mode.
 */
function clusterReplicasCondition(input: AggregateInput): StatusCondition | undefined {
  const mode = input.replicaMode;
  if (mode === undefined || input.clusters.length === 0) return undefined;
  const short = input.clusters.filter(
    (c) => !c.status || numberField(c.status, 'readyReplicas') < (c.desiredReplicas ?? input.specReplicas ?? 0),
  );
  const n = input.clusters.length;
  const spec = input.specReplicas ?? 0;
  const meaning =
    mode === 'Duplicated'
      ? `Duplicated: each of ${n} cluster${n === 1 ? '' : 's'} runs all ${spec} replicas; counts are the least ready copy's`
      : `Divided: ${n} cluster${n === 1 ? '' : 's'} share ${spec} replicas; counts are summed`;
  return {
    type: 'ClusterReplicas',
    status: short.length === 0 ? 'True' : 'False',
    reason: mode,
    message: `${meaning}. Ready per cluster: ${input.clusters.map((c) => copyFigure(c, input.specReplicas)).join(', ')}`,
  };
}

function withGeneration(status: AggregateStatus, input: AggregateInput): AggregateStatus {
  const observed = observedKcpGeneration(input.generation, input.clusters);
  return observed === undefined ? status : { ...status, observedGeneration: observed };
}

function replicaStatus(input: AggregateInput, fields: ReplicaFields, conditions: StatusCondition[]): AggregateStatus {
  const perCluster = clusterReplicasCondition(input);
  const all = perCluster ? [...conditions, perCluster] : conditions;
  return withGeneration({ ...replicaCounts(input, fields), ...(all.length ? { conditions: all } : {}) }, input);
}

/**
 * Deployment: replica counts as {@link replicaCounts}; Available only when every placed cluster is available;
 * Progressing False as soon as one cluster's rollout is stuck (ProgressDeadlineExceeded), so a partial failure is
 * never hidden.
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
  return replicaStatus(input, DEPLOYMENT_FIELDS, conditions);
}

export function aggregateStatefulSet(input: AggregateInput): AggregateStatus {
  return replicaStatus(input, STATEFULSET_FIELDS, []);
}

export function aggregateReplicaSet(input: AggregateInput): AggregateStatus {
  return replicaStatus(input, REPLICASET_FIELDS, []);
}
