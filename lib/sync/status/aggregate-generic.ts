import { allClustersCondition, conditionsOf, observedKcpGeneration } from './status-fields';
import type { AggregateInput, AggregateStatus } from './types';

/**
 * Any other kind (custom resources included): each condition type any cluster reports is True only when True on every
 * placed cluster; the message names the clusters where it is not. Other status fields are per cluster and live in the
 * per-cluster annotation, because summing fields tmc does not understand would invent numbers.
 */
export function aggregateGeneric(input: AggregateInput): AggregateStatus {
  const types = [...new Set(input.clusters.flatMap((c) => conditionsOf(c.status).map((cond) => cond.type)))].sort();
  const status: AggregateStatus = {};
  if (types.length)
    status.conditions = types.map((t) => allClustersCondition(t, input.clusters, 'AllClusters', 'NotAllClusters'));
  const observed = observedKcpGeneration(input.generation, input.clusters);
  if (observed !== undefined) status.observedGeneration = observed;
  return status;
}
