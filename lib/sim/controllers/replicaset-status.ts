import {
  type ProgressInput,
  type WorkloadKind,
  generationOf,
  isControlled,
  numberOr,
  omitZero,
  specOf,
  statusOf,
} from './workload-kind';

/**
 * ReplicaSetStatus of a bare ReplicaSet (one no Deployment controls): `replicas` always present, the other counters
 * omitted at zero as the type's omitempty fields are. A Deployment's ReplicaSets get theirs from the pod simulator.
 */
export function replicaSetStatus(input: ProgressInput): Record<string, unknown> {
  const { object, phase } = input;
  const replicas = numberOr(specOf(object).replicas, 1);
  const ready =
    phase === 'ready'
      ? Math.min(input.granted, replicas)
      : Math.min(numberOr(statusOf(object).readyReplicas, 0), replicas);
  return {
    replicas,
    ...omitZero({ fullyLabeledReplicas: replicas, readyReplicas: ready, availableReplicas: ready }),
    observedGeneration: generationOf(object),
  };
}

export const replicaSetKind: WorkloadKind = {
  gvr: { group: 'apps', version: 'v1', resource: 'replicasets' },
  kind: 'ReplicaSet',
  manages: (object) => !isControlled(object),
  target: (object) => String(generationOf(object)),
  settled: (object) => statusOf(object).observedGeneration === generationOf(object),
  wantedPods: (object) => numberOr(specOf(object).replicas, 1),
  status: replicaSetStatus,
  releasesCapacityWhenReady: false,
};
