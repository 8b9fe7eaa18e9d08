import type { GroupVersionResource, KubeObject } from '../../kube/object';
import type { SimClusterStore } from '../contracts';
import { replicaSetName } from './deployment-status';
import { JOB_FAIL_ANNOTATION } from './job-status';
import { containerStatusOf, podConditionAt } from './pod-status';
import { nameSuffix, templateHash } from './template-hash';
import {
  type ProgressPhase,
  type WorkloadKind,
  generationOf,
  insufficientMessage,
  podTemplateOf,
  specOf,
} from './workload-kind';
import { statefulSetRevision } from './statefulset-status';

const PODS: GroupVersionResource = { group: '', version: 'v1', resource: 'pods' };
const REPLICA_SETS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'replicasets' };

type PodState = 'creating' | 'running' | 'unschedulable' | 'succeeded' | 'failed';

interface DesiredPod {
  name: string;
  state: PodState;
  node?: string;
  labels: Record<string, string>;
}

export interface PodSimulator {
  /** Brings the workload's pods (and a Deployment's ReplicaSet) in line with its progress. */
  sync(
    kind: WorkloadKind,
    workload: KubeObject,
    phase: ProgressPhase,
    granted: number,
    insufficient: string[],
  ): Promise<void>;
  /** Deletes what the workload owned, as the garbage collector would after the owner goes. */
  remove(kind: WorkloadKind, workload: KubeObject): Promise<void>;
}

interface PodSimulatorOptions {
  nodes: number;
  replicaSets: boolean;
  now: () => string;
  onError?: (error: unknown, object: { resource: string; namespace?: string; name: string }) => void;
}

function ownerReference(apiVersion: string, kind: string, object: KubeObject): Record<string, unknown> {
  return {
    apiVersion,
    kind,
    name: object.metadata.name,
    uid: object.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function ownedBy(object: KubeObject, uid: string | undefined): boolean {
  return (object.metadata.ownerReferences ?? []).some((ref) => ref.uid === uid);
}

function stringRecord(value: unknown): Record<string, string> {
  return typeof value === 'object' && value !== null ? (value as Record<string, string>) : {};
}

/** What a pod's status says in short (`phase/ready/scheduled`): whether it already matches a {@link PodState}. */
function podState(pod: KubeObject): string {
  const status = stringRecord(pod.status) as unknown as {
    phase?: string;
    conditions?: Array<{ type?: string; status?: string }>;
  };
  const ready = status.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled')?.status ?? '';
  return `${status.phase ?? ''}/${ready}/${scheduled}`;
}

function stateSignature(state: PodState): string {
  switch (state) {
    case 'running':
      return 'Running/True/True';
    case 'unschedulable':
      return 'Pending//False';
    case 'creating':
      return 'Pending/False/True';
    case 'succeeded':
      return 'Succeeded/False/True';
    case 'failed':
      return 'Failed/False/True';
  }
}

/** The status a kubelet would report for `pod` in `desired.state`, at `now`; a scheduled pod gets an IP from `ipOf`. */
function podStatus(
  pod: KubeObject,
  desired: DesiredPod,
  workloadMessage: string,
  now: string,
  ipOf: () => string,
): Record<string, unknown> {
  const containers = Array.isArray(specOf(pod).containers)
    ? (specOf(pod).containers as Array<{ name?: string; image?: string }>)
    : [];
  const condition = podConditionAt(now);
  if (desired.state === 'unschedulable') {
    return {
      phase: 'Pending',
      conditions: [{ ...condition('PodScheduled', false, 'Unschedulable'), message: workloadMessage }],
      qosClass: 'BestEffort',
    };
  }
  const hostIP = `192.168.0.${(Number(desired.node?.split('-').pop() ?? '1') % 250) + 10}`;
  const podIP = ipOf();
  const running = desired.state === 'running';
  const finished = desired.state === 'succeeded' || desired.state === 'failed';
  const containerState = running
    ? { running: { startedAt: now } }
    : finished
      ? {
          terminated: {
            exitCode: desired.state === 'succeeded' ? 0 : 1,
            reason: desired.state === 'succeeded' ? 'Completed' : 'Error',
            startedAt: now,
            finishedAt: now,
          },
        }
      : { waiting: { reason: 'ContainerCreating' } };
  return {
    phase: running
      ? 'Running'
      : desired.state === 'succeeded'
        ? 'Succeeded'
        : desired.state === 'failed'
          ? 'Failed'
          : 'Pending',
    conditions: [
      condition('PodReadyToStartContainers', !finished && desired.state !== 'creating'),
      condition('Initialized', true),
      condition('Ready', running, running ? undefined : finished ? 'PodCompleted' : 'ContainersNotReady'),
      condition('ContainersReady', running, running ? undefined : finished ? 'PodCompleted' : 'ContainersNotReady'),
      condition('PodScheduled', true),
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...(desired.state === 'creating' ? {} : { podIP, podIPs: [{ ip: podIP }] }),
    startTime: now,
    containerStatuses: containers.map((container) =>
      containerStatusOf(
        container,
        running,
        containerState,
        desired.state === 'creating'
          ? undefined
          : `containerd://${templateHash(`${pod.metadata.uid ?? ''}${container.name ?? ''}`)}`,
      ),
    ),
    qosClass: 'BestEffort',
  };
}

/** The pods one workload should have now, named as its controller names them, and who owns them. */
interface PodPlan {
  owner: Record<string, unknown>;
  ownerUid: string | undefined;
  desired: DesiredPod[];
}

/** The pod slots of one workload: their indices, and each one's state and node in the current phase. */
interface PodSlots {
  indices: number[];
  stateOf(index: number): PodState;
  nodeOf(index: number): string | undefined;
}

/** A Deployment's pods, named after its current ReplicaSet (`<rs>-<suffix>`). */
function deploymentPods(workload: KubeObject, { indices, stateOf, nodeOf }: PodSlots): DesiredPod[] {
  const template = podTemplateOf(workload);
  const hash = templateHash(template);
  const rsName = replicaSetName(workload.metadata.name ?? '', template);
  return indices.map((index) => ({
    name: `${rsName}-${nameSuffix(`${rsName}/${index}`)}`,
    state: stateOf(index),
    node: nodeOf(index),
    labels: { 'pod-template-hash': hash },
  }));
}

/** A StatefulSet's pods, `<sts>-<ordinal>`, with the labels its controller sets. */
function statefulSetPods(workload: KubeObject, { indices, stateOf, nodeOf }: PodSlots): DesiredPod[] {
  const name = workload.metadata.name ?? '';
  const revision = statefulSetRevision(name, podTemplateOf(workload));
  return indices.map((index) => ({
    name: `${name}-${index}`,
    state: stateOf(index),
    node: nodeOf(index),
    labels: {
      'controller-revision-hash': revision,
      'statefulset.kubernetes.io/pod-name': `${name}-${index}`,
      'apps.kubernetes.io/pod-index': String(index),
    },
  }));
}

/**
 * Pods for simulated workloads (off by default: thousands of pods make a benchmark measure the simulator).
 * Names follow the controllers' patterns: `<rs>-<suffix>`, `<sts>-<ordinal>`, `<ds>-<suffix>`, `<job>-<suffix>`.
 */
export function createPodSimulator(store: SimClusterStore, options: PodSimulatorOptions): PodSimulator {
  return new SimulatedPods(store, options);
}

class SimulatedPods implements PodSimulator {
  private nextIp = 1;

  constructor(
    private readonly store: SimClusterStore,
    private readonly options: PodSimulatorOptions,
  ) {}

  async sync(
    kind: WorkloadKind,
    workload: KubeObject,
    phase: ProgressPhase,
    granted: number,
    insufficient: string[],
  ): Promise<void> {
    const message = insufficientMessage(insufficient.length > 0 ? insufficient : ['pods'], this.options.nodes);
    const plan = await this.plan(kind, workload, phase, granted);
    if (plan) await this.syncPods(plan, workload, message);
  }

  async remove(kind: WorkloadKind, workload: KubeObject): Promise<void> {
    const namespace = workload.metadata.namespace;
    const owners = [workload.metadata.uid];
    if (kind.kind === 'Deployment') {
      for (const rs of this.store
        .list(REPLICA_SETS, namespace)
        .filter((candidate) => ownedBy(candidate, workload.metadata.uid))) {
        owners.push(rs.metadata.uid);
        this.safely(() => this.store.delete(REPLICA_SETS, namespace, rs.metadata.name ?? ''), rs);
      }
    }
    for (const pod of this.store
      .list(PODS, namespace)
      .filter((candidate) => owners.some((uid) => ownedBy(candidate, uid)))) {
      this.safely(() => this.store.delete(PODS, namespace, pod.metadata.name ?? ''), pod);
    }
  }

  /** The pods `workload` should have in `phase` with `granted` of them schedulable; undefined for kinds without pods. */
  private async plan(
    kind: WorkloadKind,
    workload: KubeObject,
    phase: ProgressPhase,
    granted: number,
  ): Promise<PodPlan | undefined> {
    const wanted = kind.wantedPods(workload, this.options.nodes);
    const stateOf = (index: number): PodState =>
      phase === 'progressing' ? 'creating' : index < granted ? 'running' : 'unschedulable';
    const slots: PodSlots = {
      indices: Array.from({ length: wanted }, (_, index) => index),
      stateOf,
      nodeOf: (index) => (stateOf(index) === 'unschedulable' ? undefined : this.nodeName(index)),
    };
    const ownedByWorkload = (apiVersion: string): Omit<PodPlan, 'desired'> => ({
      owner: ownerReference(apiVersion, kind.kind, workload),
      ownerUid: workload.metadata.uid,
    });
    switch (kind.kind) {
      case 'Deployment': {
        const rs = this.options.replicaSets
          ? await this.ensureReplicaSet(workload, wanted, phase === 'ready' ? granted : 0)
          : undefined;
        const owner = rs
          ? ownerReference('apps/v1', 'ReplicaSet', rs)
          : ownerReference('apps/v1', 'Deployment', workload);
        return { owner, ownerUid: String(owner.uid), desired: deploymentPods(workload, slots) };
      }
      case 'StatefulSet':
        return { ...ownedByWorkload('apps/v1'), desired: statefulSetPods(workload, slots) };
      case 'DaemonSet':
        return { ...ownedByWorkload('apps/v1'), desired: this.daemonSetPods(workload, slots) };
      case 'Job':
        return { ...ownedByWorkload('batch/v1'), desired: this.jobPods(workload, phase, granted, slots) };
      default:
        return undefined;
    }
  }

  /** One pod per node, named from the node. */
  private daemonSetPods(workload: KubeObject, { indices, stateOf }: PodSlots): DesiredPod[] {
    const name = workload.metadata.name ?? '';
    const template = podTemplateOf(workload);
    return indices.map((index) => ({
      name: `${name}-${nameSuffix(`${name}/${this.nodeName(index)}`)}`,
      state: stateOf(index),
      node: this.nodeName(index),
      labels: {
        'controller-revision-hash': templateHash(template),
        'pod-template-generation': String(generationOf(workload)),
      },
    }));
  }

  /** A Job's pods run to completion (or fail, with JOB_FAIL_ANNOTATION on the template); none while it is suspended. */
  private jobPods(workload: KubeObject, phase: ProgressPhase, granted: number, { indices }: PodSlots): DesiredPod[] {
    if (specOf(workload).suspend === true) return [];
    const name = workload.metadata.name ?? '';
    const template = podTemplateOf(workload);
    const finished: PodState =
      stringRecord(template.metadata?.annotations)[JOB_FAIL_ANNOTATION] === 'true' ? 'failed' : 'succeeded';
    const uid = workload.metadata.uid ?? '';
    return indices.map((index) => ({
      name: `${name}-${nameSuffix(`${name}/${index}`)}`,
      state: phase === 'progressing' ? ('creating' as const) : granted === 0 ? ('unschedulable' as const) : finished,
      node: this.nodeName(index),
      labels: {
        'batch.kubernetes.io/job-name': name,
        'job-name': name,
        'batch.kubernetes.io/controller-uid': uid,
        'controller-uid': uid,
      },
    }));
  }

  /** Deletes the owner's pods it no longer wants, creates the missing ones, and moves each to its desired state. */
  private async syncPods(plan: PodPlan, workload: KubeObject, unschedulableMessage: string): Promise<void> {
    const namespace = workload.metadata.namespace;
    const template = podTemplateOf(workload);
    const existing = this.store.list(PODS, namespace).filter((pod) => ownedBy(pod, plan.ownerUid));
    const wanted = new Set(plan.desired.map((pod) => pod.name));
    for (const pod of existing) {
      if (!wanted.has(pod.metadata.name ?? ''))
        this.safely(() => this.store.delete(PODS, namespace, pod.metadata.name ?? ''), pod);
    }
    for (const want of plan.desired) {
      let pod = existing.find((candidate) => candidate.metadata.name === want.name);
      if (!pod) {
        try {
          pod = this.store.create(PODS, {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: {
              name: want.name,
              namespace,
              labels: { ...stringRecord(template.metadata?.labels), ...want.labels },
              ...(template.metadata?.annotations ? { annotations: stringRecord(template.metadata.annotations) } : {}),
              ownerReferences: [plan.owner],
            },
            spec: { ...(template.spec ?? {}), ...(want.node ? { nodeName: want.node } : {}) },
          });
        } catch (error) {
          this.options.onError?.(error, { resource: 'pods', namespace, name: want.name });
          continue;
        }
      }
      if (podState(pod) === stateSignature(want.state)) continue;
      const status = podStatus(pod, want, unschedulableMessage, this.options.now(), () => this.ipFor(pod));
      await this.store
        .updateStatus(PODS, { ...pod, status })
        .catch((error: unknown) => this.options.onError?.(error, { resource: 'pods', namespace, name: want.name }));
    }
  }

  private async ensureReplicaSet(
    deployment: KubeObject,
    replicas: number,
    ready: number,
  ): Promise<KubeObject | undefined> {
    const namespace = deployment.metadata.namespace;
    const template = podTemplateOf(deployment);
    const hash = templateHash(template);
    const name = replicaSetName(deployment.metadata.name ?? '', template);
    const owned = this.store.list(REPLICA_SETS, namespace).filter((rs) => ownedBy(rs, deployment.metadata.uid));
    // The store offers no spec update to controllers, so an old template's ReplicaSet is deleted rather than
    // scaled to zero (revision history is not simulated).
    for (const old of owned) {
      if (old.metadata.name === name) continue;
      for (const pod of this.store.list(PODS, namespace).filter((p) => ownedBy(p, old.metadata.uid)))
        this.safely(() => this.store.delete(PODS, namespace, pod.metadata.name ?? ''), pod);
      this.safely(() => this.store.delete(REPLICA_SETS, namespace, old.metadata.name ?? ''), old);
    }
    let rs =
      owned.find((candidate) => candidate.metadata.name === name) ?? this.store.get(REPLICA_SETS, namespace, name);
    if (!rs) {
      const labels = { ...stringRecord(template.metadata?.labels), 'pod-template-hash': hash };
      const selector = (specOf(deployment).selector ?? {}) as { matchLabels?: Record<string, string> };
      rs = this.store.create(REPLICA_SETS, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name, namespace, labels, ownerReferences: [ownerReference('apps/v1', 'Deployment', deployment)] },
        spec: {
          replicas,
          selector: { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), 'pod-template-hash': hash } },
          template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
        },
      });
    }
    const status = {
      replicas,
      fullyLabeledReplicas: replicas,
      ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
      observedGeneration: generationOf(rs),
    };
    if (JSON.stringify(rs.status ?? {}) !== JSON.stringify(status))
      return this.store.updateStatus(REPLICA_SETS, { ...rs, status });
    return rs;
  }

  /** A pod keeps its IP for life: the one its status carries, else the next free one (nothing kept per pod here). */
  private ipFor(pod: KubeObject): string {
    const status: unknown = pod.status;
    const known = status !== null && typeof status === 'object' && 'podIP' in status ? status.podIP : undefined;
    if (typeof known === 'string') return known;
    const n = this.nextIp++;
    return `10.244.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
  }

  private nodeName(index: number): string {
    return `sim-node-${(index % this.options.nodes) + 1}`;
  }

  private safely(action: () => void, object: KubeObject): void {
    try {
      action();
    } catch (error) {
      // Deleting what is already gone is fine; anything else is reported.
      this.options.onError?.(error, {
        resource: 'pods',
        namespace: object.metadata.namespace,
        name: object.metadata.name ?? '',
      });
    }
  }
}
