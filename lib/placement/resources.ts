import type { KubeObject } from '../sim/contracts';
import { parseQuantity } from './quantity';
import type { ClusterInfo, Resources } from './types';

const DIMENSIONS = ['cpu', 'memory', 'pods'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Kinds whose `spec.replicas` tmc divides or duplicates; an absent field means 1, as the API server defaults it. */
const SCALABLE_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

export function replicasOf(object: KubeObject): number | undefined {
  const spec = object.spec as { replicas?: unknown } | undefined;
  if (spec && typeof spec.replicas === 'number' && Number.isInteger(spec.replicas) && spec.replicas >= 0) return spec.replicas;
  return SCALABLE_KINDS.has(object.kind) ? 1 : undefined;
}

interface PodSpecLike {
  containers?: Array<{ resources?: { requests?: Record<string, string | number> } }>;
}

function podSpecOf(object: KubeObject): PodSpecLike | undefined {
  const spec = object.spec as Record<string, unknown> | undefined;
  if (!spec) return undefined;
  if (object.kind === 'Pod') return spec as PodSpecLike;
  const template = (object.kind === 'CronJob' ? (spec.jobTemplate as { spec?: { template?: unknown } } | undefined)?.spec?.template : spec.template) as
    | { spec?: PodSpecLike }
    | undefined;
  return template?.spec;
}

/** What one replica asks for: the sum of its containers' requests, and one pod. Undefined for non-workloads. */
export function demandPerReplica(object: KubeObject): Resources | undefined {
  const pod = podSpecOf(object);
  if (!pod || !Array.isArray(pod.containers)) return undefined;
  let cpu = 0;
  let memory = 0;
  for (const c of pod.containers) {
    cpu += parseQuantity(c.resources?.requests?.cpu) ?? 0;
    memory += parseQuantity(c.resources?.requests?.memory) ?? 0;
  }
  return { cpu, memory, pods: 1 };
}

function totalOf(cluster: ClusterInfo, dim: Dimension): number | undefined {
  return cluster.allocatable?.[dim] ?? cluster.capacity?.[dim];
}

/**
 * How many more replicas of `demand` fit on the cluster: the tightest dimension decides. Infinity when the cluster
 * reports no capacity (tmc cannot know, so it does not refuse) or the object asks for nothing.
 */
export function replicasThatFit(cluster: ClusterInfo, demand: Resources | undefined): number {
  if (!demand) return Infinity;
  let fit = Infinity;
  for (const dim of DIMENSIONS) {
    const need = demand[dim] ?? 0;
    const total = totalOf(cluster, dim);
    if (need <= 0 || total === undefined) continue;
    const free = total - (cluster.allocated?.[dim] ?? 0);
    fit = Math.min(fit, Math.max(0, Math.floor(free / need + 1e-9)));
  }
  return fit;
}

/** The dimension that runs out first, for the message "insufficient cpu". */
export function scarceDimension(cluster: ClusterInfo, demand: Resources, replicas: number): Dimension {
  for (const dim of DIMENSIONS) {
    const need = (demand[dim] ?? 0) * replicas;
    const total = totalOf(cluster, dim);
    if (need > 0 && total !== undefined && total - (cluster.allocated?.[dim] ?? 0) < need) return dim;
  }
  return 'pods';
}

/** Fraction (0..1) of a dimension in use, or undefined when unknown. */
export function utilizationOf(cluster: ClusterInfo, dim: Dimension): number | undefined {
  const total = totalOf(cluster, dim);
  if (total === undefined || total <= 0) return undefined;
  return Math.min(1, Math.max(0, (cluster.allocated?.[dim] ?? 0) / total));
}

/** Mean utilization over the known dimensions; 0.5 (neutral) when none is known. */
export function meanUtilization(cluster: ClusterInfo): number {
  let sum = 0;
  let count = 0;
  for (const dim of DIMENSIONS) {
    const u = utilizationOf(cluster, dim);
    if (u !== undefined) {
      sum += u;
      count++;
    }
  }
  return count ? sum / count : 0.5;
}
