import type { ClusterStatusInput, StatusCondition } from './types';

export function numberField(status: Record<string, unknown> | undefined, key: string): number {
  const value = status?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Sums `keys` over clusters; a cluster without status contributes zero (it is not ready, whatever it last said). */
export function sumFields(clusters: ClusterStatusInput[], keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, clusters.reduce((sum, c) => sum + numberField(c.status, k), 0)]));
}

export function conditionsOf(status: Record<string, unknown> | undefined): StatusCondition[] {
  const raw = status?.conditions;
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (c): c is StatusCondition =>
      typeof c === 'object' &&
      c !== null &&
      typeof (c as StatusCondition).type === 'string' &&
      typeof (c as StatusCondition).status === 'string',
  );
}

export function conditionOf(cluster: ClusterStatusInput, type: string): StatusCondition | undefined {
  return conditionsOf(cluster.status).find((c) => c.type === type);
}

/**
 * True only when the condition is True on every placed cluster. Otherwise False (some cluster said False or has not
 * reported) with a message that names which clusters are not there: "2 of 3 clusters: not on north (no status yet)".
 */
export function allClustersCondition(
  type: string,
  clusters: ClusterStatusInput[],
  reasonTrue: string,
  reasonFalse: string,
): StatusCondition {
  const lagging: string[] = [];
  for (const c of clusters) {
    const cond = conditionOf(c, type);
    if (cond?.status === 'True') continue;
    const why = !c.status
      ? 'no status yet'
      : cond
        ? `${cond.status}${cond.reason ? `, ${cond.reason}` : ''}`
        : 'not reported';
    lagging.push(`${c.cluster} (${why})`);
  }
  const ok = clusters.length - lagging.length;
  if (clusters.length > 0 && lagging.length === 0) {
    return { type, status: 'True', reason: reasonTrue, message: `${type} on all ${clusters.length} clusters` };
  }
  return {
    type,
    status: 'False',
    reason: reasonFalse,
    message:
      clusters.length === 0
        ? 'Not placed on any cluster'
        : `${type} on ${ok} of ${clusters.length} clusters; not on ${lagging.join(', ')}`,
  };
}

/**
 * The kcp generation every placed cluster has observed, or undefined when one has not: a cluster observed generation G
 * when tmc applied G there and the cluster's observedGeneration reached the downstream generation of that apply.
 */
export function observedKcpGeneration(
  generation: number | undefined,
  clusters: ClusterStatusInput[],
): number | undefined {
  if (generation === undefined || clusters.length === 0) return undefined;
  const everyObserved = clusters.every(
    (c) =>
      c.appliedGeneration === generation &&
      c.downstreamGeneration !== undefined &&
      numberField(c.status, 'observedGeneration') >= c.downstreamGeneration,
  );
  return everyObserved ? generation : undefined;
}
