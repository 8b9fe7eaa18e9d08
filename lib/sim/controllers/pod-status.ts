import { createHash } from 'node:crypto';
import {
  type ProgressInput,
  type WorkloadKind,
  insufficientMessage,
  isControlled,
  specOf,
  statusOf,
} from './workload-kind';

/** A PodCondition as the kubelet writes it, at `now`. */
export function podConditionAt(
  now: string,
): (type: string, status: boolean, reason?: string) => Record<string, unknown> {
  return (type, status, reason) => ({
    type,
    status: status ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: now,
    ...(reason ? { reason } : {}),
  });
}

/** A ContainerStatus; `containerID` once the container exists. */
export function containerStatusOf(
  container: { name?: string; image?: string },
  running: boolean,
  state: Record<string, unknown>,
  containerID?: string,
): Record<string, unknown> {
  return {
    name: container.name,
    image: container.image,
    imageID: '',
    ready: running,
    started: running,
    restartCount: 0,
    ...(containerID ? { containerID } : {}),
    state,
  };
}

/** A stable pod IP in 10.244.0.0/16 from the pod's uid (the bare pod has no pod simulator to number it). */
function podIp(uid: string): string {
  const digest = createHash('sha256').update(uid).digest();
  return `10.244.${digest[0] % 250}.${(digest[1] % 250) + 2}`;
}

/**
 * PodStatus of a Pod created directly (`kubectl run`, a manifest with kind Pod): ContainerCreating at once, then
 * Running and Ready after the ready delay, or Pending and Unschedulable when the cluster's capacity has no room.
 * Pods a controller owns are the pod simulator's.
 */
export function barePodStatus(input: ProgressInput): Record<string, unknown> {
  const { object, phase, now } = input;
  const containers = Array.isArray(specOf(object).containers)
    ? (specOf(object).containers as Array<{ name?: string; image?: string }>)
    : [];
  const condition = podConditionAt(now);
  if (phase === 'ready' && input.granted === 0) {
    return {
      phase: 'Pending',
      conditions: [
        {
          ...condition('PodScheduled', false, 'Unschedulable'),
          message: insufficientMessage(input.insufficient, input.nodes),
        },
      ],
      qosClass: 'BestEffort',
    };
  }
  const running = phase === 'ready';
  const ip = podIp(object.metadata.uid ?? object.metadata.name ?? '');
  const startTime = typeof statusOf(object).startTime === 'string' ? statusOf(object).startTime : now;
  return {
    phase: running ? 'Running' : 'Pending',
    conditions: [
      condition('PodReadyToStartContainers', running),
      condition('Initialized', true),
      condition('Ready', running, running ? undefined : 'ContainersNotReady'),
      condition('ContainersReady', running, running ? undefined : 'ContainersNotReady'),
      condition('PodScheduled', true),
    ],
    hostIP: '192.168.0.11',
    hostIPs: [{ ip: '192.168.0.11' }],
    ...(running ? { podIP: ip, podIPs: [{ ip }] } : {}),
    startTime,
    containerStatuses: containers.map((container) =>
      containerStatusOf(
        container,
        running,
        running ? { running: { startedAt: now } } : { waiting: { reason: 'ContainerCreating' } },
      ),
    ),
    qosClass: 'BestEffort',
  };
}

export const podKind: WorkloadKind = {
  gvr: { group: '', version: 'v1', resource: 'pods' },
  kind: 'Pod',
  manages: (object) => !isControlled(object),
  // A pod's spec is (nearly) immutable: it progresses once, from the moment it is first seen.
  target: (object) => object.metadata.uid ?? '',
  settled: (object) => statusOf(object).phase === 'Running',
  wantedPods: () => 1,
  status: barePodStatus,
  releasesCapacityWhenReady: false,
};
