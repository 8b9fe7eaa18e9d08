import type { GroupVersionResource, KubeObject } from '../../kube/object';

export type ProgressPhase = 'progressing' | 'ready';

/** Everything a kind's status function needs; status functions are pure so tests can table them. */
export interface ProgressInput {
  object: KubeObject;
  phase: ProgressPhase;
  /** Pods that fit the cluster's capacity (ready phase; equals the wanted pods without capacity). */
  granted: number;
  /** Resources that kept pods out (`cpu`, `memory`, `pods`). */
  insufficient: string[];
  /** The pod template changed since the last observed generation (a rollout rather than a scale). */
  templateChanged: boolean;
  now: string;
  nodes: number;
}

/** How one workload kind progresses (a kwok "stage" reduced to what tmc reads). */
export interface WorkloadKind {
  gvr: GroupVersionResource;
  kind: string;
  /** Whether this controller owns the object's status (absent: every object of the kind). */
  manages?(object: KubeObject): boolean;
  /** What progress aims at; a new value (a spec change) restarts progress. */
  target(object: KubeObject): string;
  /** The stored status already reflects the target (seen again after a restart): no intermediate write. */
  settled(object: KubeObject): boolean;
  /** Pods the workload runs once ready. */
  wantedPods(object: KubeObject, nodes: number): number;
  status(input: ProgressInput): Record<string, unknown>;
  /** Jobs give their pods' capacity back when they finish; long-running workloads keep it. */
  releasesCapacityWhenReady: boolean;
}

export function specOf(object: KubeObject): Record<string, unknown> {
  const spec = object.spec;
  return typeof spec === 'object' && spec !== null ? (spec as Record<string, unknown>) : {};
}

export function statusOf(object: KubeObject): Record<string, unknown> {
  const status = object.status;
  return typeof status === 'object' && status !== null ? (status as Record<string, unknown>) : {};
}

export function podTemplateOf(object: KubeObject): {
  metadata?: Record<string, unknown>;
  spec?: Record<string, unknown>;
} {
  const template = specOf(object).template;
  return typeof template === 'object' && template !== null
    ? (template as { metadata?: Record<string, unknown>; spec?: Record<string, unknown> })
    : {};
}

export function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export function generationOf(object: KubeObject): number {
  return numberOr(object.metadata.generation, 1);
}

/** Drops zero counters: the workload status types mark them omitempty, so a real server never shows `0`. */
export function omitZero(fields: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(fields)) if (value) out[key] = value;
  return out;
}

/** The scheduler's wording for pods that do not fit, as kube-scheduler reports it. */
export function insufficientMessage(insufficient: string[], nodes: number): string {
  return `0/${nodes} nodes are available: ${insufficient.map((resource) => `Insufficient ${resource}`).join(', ')}.`;
}

/**
 * maxUnavailable of a Deployment's RollingUpdate strategy (default 25%, rounded down; 0 for Recreate), the
 * number the Available condition tolerates.
 */
export function maxUnavailable(spec: Record<string, unknown>, replicas: number): number {
  const strategy = (spec.strategy ?? {}) as { type?: unknown; rollingUpdate?: { maxUnavailable?: unknown } };
  if (strategy.type === 'Recreate') return 0;
  const value = strategy.rollingUpdate?.maxUnavailable ?? '25%';
  if (typeof value === 'number') return Math.min(value, replicas);
  if (typeof value === 'string' && value.endsWith('%'))
    return Math.floor((replicas * Number(value.slice(0, -1))) / 100);
  return Math.floor(replicas / 4);
}

/** Owned by a controller (a Deployment's ReplicaSet, a workload's pod): that controller's simulation writes its status. */
export function isControlled(object: KubeObject): boolean {
  return (object.metadata.ownerReferences ?? []).some((ref) => ref.controller === true);
}
