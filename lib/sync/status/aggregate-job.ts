import { allClustersCondition, conditionOf, sumFields } from './status-fields';
import type { AggregateInput, AggregateStatus, StatusCondition } from './types';

function times(input: AggregateInput, key: string): string[] {
  return input.clusters
    .map((c) => c.status?.[key])
    .filter((t): t is string => typeof t === 'string')
    .sort();
}

/**
 * Job: succeeded/failed/active/ready summed. Complete only when every placed cluster completed; Failed as soon as
 * any cluster's Job failed (the work as a whole cannot complete). startTime is the earliest; completionTime the
 * latest, and only once the whole Job is complete.
 */
export function aggregateJob(input: AggregateInput): AggregateStatus {
  const status: AggregateStatus = sumFields(input.clusters, ['succeeded', 'failed', 'active', 'ready']);
  const conditions: StatusCondition[] = [];
  const complete = allClustersCondition('Complete', input.clusters, 'AllClustersComplete', 'ClustersIncomplete');
  const failed = input.clusters.filter((c) => conditionOf(c, 'Failed')?.status === 'True');
  if (complete.status === 'True') conditions.push(complete);
  if (failed.length) {
    conditions.push({
      type: 'Failed',
      status: 'True',
      reason: conditionOf(failed[0], 'Failed')?.reason ?? 'ClusterJobFailed',
      message: `Job failed on ${failed.map((c) => c.cluster).join(', ')}`,
    });
  }
  const starts = times(input, 'startTime');
  if (starts.length) status.startTime = starts[0];
  const completions = times(input, 'completionTime');
  if (complete.status === 'True' && completions.length) status.completionTime = completions[completions.length - 1];
  // The Job API only lists conditions that hold; an incomplete Job has none rather than Complete=False.
  if (conditions.length) status.conditions = conditions;
  return status;
}
