import { templateHash } from './template-hash';
import {
  type ProgressInput,
  type WorkloadKind,
  generationOf,
  numberOr,
  omitZero,
  podTemplateOf,
  specOf,
  statusOf,
} from './workload-kind';

/** The ControllerRevision name the statefulset controller records (`web-7b9d5c4f8`). */
export function statefulSetRevision(name: string, template: unknown): string {
  return `${name}-${templateHash(template)}`;
}

/**
 * StatefulSetStatus: `replicas` and `availableReplicas` are always present, the other counters omitted at zero,
 * collisionCount 0. While a rollout is in progress currentRevision still names the old revision.
 */
export function statefulSetStatus(input: ProgressInput): Record<string, unknown> {
  const { object, phase } = input;
  const spec = specOf(object);
  const previous = statusOf(object);
  const replicas = numberOr(spec.replicas, 1);
  const revision = statefulSetRevision(object.metadata.name ?? '', podTemplateOf(object));
  const previousRevision = typeof previous.currentRevision === 'string' ? previous.currentRevision : revision;

  const ready =
    phase === 'ready' ? Math.min(input.granted, replicas) : Math.min(numberOr(previous.readyReplicas, 0), replicas);
  const rolling = phase === 'progressing' && input.templateChanged && previousRevision !== revision;
  const current = phase === 'ready' ? replicas : rolling ? ready : replicas;
  const updated = phase === 'ready' ? replicas : rolling ? 0 : replicas;
  return {
    observedGeneration: generationOf(object),
    replicas,
    ...omitZero({ readyReplicas: ready, currentReplicas: current, updatedReplicas: updated }),
    availableReplicas: ready,
    currentRevision: phase === 'ready' ? revision : previousRevision,
    updateRevision: revision,
    collisionCount: 0,
  };
}

export const statefulSetKind: WorkloadKind = {
  gvr: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  kind: 'StatefulSet',
  target: (object) => String(generationOf(object)),
  settled: (object) => statusOf(object).observedGeneration === generationOf(object),
  wantedPods: (object) => numberOr(specOf(object).replicas, 1),
  status: statefulSetStatus,
  releasesCapacityWhenReady: false,
};
