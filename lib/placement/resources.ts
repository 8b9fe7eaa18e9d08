import type { KubeObject } from '../kube/object';
import { parseQuantity } from '../kube/quantity';
import type { ClusterInfo, Resources } from './types';

const DIMENSIONS = ['cpu', 'memory', 'pods'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Kinds whose `spec.replicas` tmc divides or duplicates; an absent field means 1, as the API server defaults it. */
const SCALABLE_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

export function replicasOf(object: KubeObject): number | undefined {
  const spec = object.spec as { replicas?: unknown } | undefined;
  if (spec && typeof spec.replicas === 'number' && Number.isInteger(spec.replicas) && spec.replicas >= 0)
    return spec.replicas;
  return SCALABLE_KINDS.has(object.kind) ? 1 : undefined;
}

interface PodSpecLike {
  containers?: Array<{ resources?: { requests?: Record<string, string | number> } }>;
}

function podSpecOf(object: KubeObject): PodSpecLike | undefined {
  const spec = object.spec as Record<string, unknown> | undefined;
  if (!spec) return undefined;
  if (object.kind === 'Pod') return spec as PodSpecLike;
  const template = (
    object.kind === 'CronJob'
      ? (spec.jobTemplate as { spec?: { template?: unknown } } | undefined)?.spec?.template
      : spec.template
  ) as { spec?: PodSpecLike } | undefined;
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

/**
 * The cluster's whole room: capacity, else allocatable. Never allocatable first: `allocated` is capacity − allocatable
 * (lib/adapters/dynamodb/cluster-inventory.ts), and subtracting it from allocatable counted the used room twice (a
 * cluster with 1 of 4 cores free had none).
 */
function totalOf(cluster: ClusterInfo, dim: Dimension): number | undefined {
  return cluster.capacity?.[dim] ?? cluster.allocatable?.[dim];
}

/**
 * What the engine derives from a cluster alone (free room, utilization), computed once per ClusterInfo object and
 * kept while the object lives: a container decides many objects against one inventory, so the per-decision loop
 * does a lookup instead of arithmetic, and allocates nothing.
 */
interface ClusterStats {
  /** Free cpu, memory, pods; NaN when unknown. */
  free: Float64Array;
  /** Utilization of cpu, memory; NaN when unknown. */
  cpuUtil: number;
  memUtil: number;
  meanUtil: number;
}
const statsCache = new WeakMap<ClusterInfo, ClusterStats>();

function statsOf(cluster: ClusterInfo): ClusterStats {
  let s = statsCache.get(cluster);
  if (s) return s;
  const free = new Float64Array(3);
  const utils = [NaN, NaN, NaN];
  let sum = 0;
  let count = 0;
  for (let k = 0; k < DIMENSIONS.length; k++) {
    const dim = DIMENSIONS[k];
    const total = totalOf(cluster, dim);
    const used = cluster.allocated?.[dim] ?? 0;
    free[k] = total === undefined ? NaN : total - used;
    if (total !== undefined && total > 0) {
      utils[k] = Math.min(1, Math.max(0, used / total));
      sum += utils[k];
      count++;
    }
  }
  s = { free, cpuUtil: utils[0], memUtil: utils[1], meanUtil: count ? sum / count : 0.5 };
  statsCache.set(cluster, s);
  return s;
}

/**
 * How many more replicas of `demand` fit on the cluster: the tightest dimension decides. Infinity when the cluster
 * reports no capacity (tmc cannot know, so it does not refuse) or the object asks for nothing.
 */
export function replicasThatFit(cluster: ClusterInfo, demand: Resources | undefined): number {
  if (!demand) return Infinity;
  const free = statsOf(cluster).free;
  let fit = Infinity;
  for (let k = 0; k < DIMENSIONS.length; k++) {
    const need = demand[DIMENSIONS[k]] ?? 0;
    if (need <= 0 || Number.isNaN(free[k])) continue;
    const n = Math.max(0, Math.floor(free[k] / need + 1e-9));
    if (n < fit) fit = n;
  }
  return fit;
}

/** The dimension that runs out first, for the message "insufficient cpu". */
export function scarceDimension(cluster: ClusterInfo, demand: Resources, replicas: number): Dimension {
  const free = statsOf(cluster).free;
  for (let k = 0; k < DIMENSIONS.length; k++) {
    const need = (demand[DIMENSIONS[k]] ?? 0) * replicas;
    if (need > 0 && !Number.isNaN(free[k]) && free[k] < need) return DIMENSIONS[k];
  }
  return 'pods';
}

/** Fraction (0..1) of cpu or memory in use, or undefined when unknown. */
export function utilizationOf(cluster: ClusterInfo, dim: 'cpu' | 'memory'): number | undefined {
  const s = statsOf(cluster);
  const u = dim === 'cpu' ? s.cpuUtil : s.memUtil;
  return Number.isNaN(u) ? undefined : u;
}

/** Mean utilization over the known dimensions; 0.5 (neutral) when none is known. */
export function meanUtilization(cluster: ClusterInfo): number {
  return statsOf(cluster).meanUtil;
}
