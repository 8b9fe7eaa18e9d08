import { type ProgressInput, type WorkloadKind, generationOf, numberOr, omitZero, statusOf } from './workload-kind';

/**
 * DaemonSetStatus with one pod per simulated node (node selectors and tolerations are not simulated).
 * currentNumberScheduled, numberMisscheduled, desiredNumberScheduled and numberReady are always present.
 */
export function daemonSetStatus(input: ProgressInput): Record<string, unknown> {
  const { object, phase, nodes } = input;
  const previous = statusOf(object);
  const ready = phase === 'ready' ? Math.min(input.granted, nodes) : Math.min(numberOr(previous.numberReady, 0), nodes);
  const updated = phase === 'ready' || !input.templateChanged ? nodes : 0;
  return {
    currentNumberScheduled: nodes,
    numberMisscheduled: 0,
    desiredNumberScheduled: nodes,
    numberReady: ready,
    observedGeneration: generationOf(object),
    ...omitZero({ updatedNumberScheduled: updated, numberAvailable: ready, numberUnavailable: nodes - ready }),
  };
}

export const daemonSetKind: WorkloadKind = {
  gvr: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  kind: 'DaemonSet',
  target: (object) => String(generationOf(object)),
  settled: (object) => statusOf(object).observedGeneration === generationOf(object),
  wantedPods: (_object, nodes) => nodes,
  status: daemonSetStatus,
  releasesCapacityWhenReady: false,
};
