import { setConditions } from './conditions';
import { templateHash } from './template-hash';
import {
  type ProgressInput,
  type WorkloadKind,
  generationOf,
  insufficientMessage,
  maxUnavailable,
  numberOr,
  omitZero,
  podTemplateOf,
  specOf,
  statusOf,
} from './workload-kind';

/** The ReplicaSet the deployment controller would create for the current template. */
export function replicaSetName(name: string, template: unknown): string {
  return `${name}-${templateHash(template)}`;
}

/**
 * DeploymentStatus as the deployment controller writes it. While progressing: counts reflect the new ReplicaSet's
 * pods not ready yet (old ready pods still count during a rollout). Once ready: every replica that fits is ready
 * and available; replicas beyond capacity stay unavailable, with a ReplicaFailure condition saying why.
 */
export function deploymentStatus(input: ProgressInput): Record<string, unknown> {
  const { object, phase, now } = input;
  const spec = specOf(object);
  const previous = statusOf(object);
  const replicas = numberOr(spec.replicas, 1);
  const rsName = replicaSetName(object.metadata.name ?? '', podTemplateOf(object));
  const firstRollout = previous.observedGeneration === undefined;

  let ready: number;
  let updated: number;
  if (phase === 'ready') {
    ready = Math.min(input.granted, replicas);
    updated = replicas;
  } else {
    ready = Math.min(numberOr(previous.readyReplicas, 0), replicas);
    // During a rollout the new ReplicaSet surges by maxSurge (25%, rounded up) before old pods go.
    updated =
      input.templateChanged && !firstRollout ? Math.min(replicas, Math.max(1, Math.ceil(replicas / 4))) : replicas;
  }
  const available = ready;
  const minAvailable = replicas - maxUnavailable(spec, replicas);
  const done = phase === 'ready' && ready === replicas;
  const shortOfCapacity = phase === 'ready' && ready < replicas && input.insufficient.length > 0;

  const conditions = setConditions(
    previous.conditions,
    [
      available >= minAvailable
        ? {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
          }
        : {
            type: 'Available',
            status: 'False',
            reason: 'MinimumReplicasUnavailable',
            message: 'Deployment does not have minimum availability.',
          },
      done
        ? {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${rsName}" has successfully progressed.`,
          }
        : {
            type: 'Progressing',
            status: 'True',
            reason: 'ReplicaSetUpdated',
            message: `ReplicaSet "${rsName}" is progressing.`,
          },
      ...(shortOfCapacity
        ? [
            {
              type: 'ReplicaFailure',
              status: 'True' as const,
              reason: 'InsufficientCapacity',
              message: insufficientMessage(input.insufficient, input.nodes),
            },
          ]
        : []),
    ],
    shortOfCapacity ? [] : ['ReplicaFailure'],
    now,
    'lastUpdateTime',
  );
  return {
    ...omitZero({
      observedGeneration: generationOf(object),
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, replicas - available),
    }),
    conditions,
  };
}

export const deploymentKind: WorkloadKind = {
  gvr: { group: 'apps', version: 'v1', resource: 'deployments' },
  kind: 'Deployment',
  target: (object) => String(generationOf(object)),
  settled: (object) => statusOf(object).observedGeneration === generationOf(object),
  wantedPods: (object) => numberOr(specOf(object).replicas, 1),
  status: deploymentStatus,
  releasesCapacityWhenReady: false,
};
