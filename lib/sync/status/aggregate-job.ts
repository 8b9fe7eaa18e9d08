import { allClustersCondition, conditionOf, numberField } from './status-fields';
import type { AggregateInput, AggregateStatus, StatusCondition } from './types';

function times(input: AggregateInput, key: string): string[] {
  return input.clusters
    .map((c) => c.status?.[key])
    .filter((t): t is string => typeof t === 'string')
    .sort();
}

function extreme(input: AggregateInput, key: string, pick: (...values: number[]) => number): number {
  return input.clusters.length ? pick(...input.clusters.map((c) => numberField(c.status, key))) : 0;
}

/**
 * Job: every placed cluster runs the whole Job (a Job is never divided), so, as for a Duplicated Deployment,
 * `succeeded` and `ready` are the least advanced copy's (COMPLETIONS 1/1 once every copy completed) and `failed` and
 * `active` the largest copy's. Complete only when every placed cluster completed; Failed as soon as any cluster's Job
 * failed (the work as a whole cannot complete). startTime is the earliest; completionTime the latest, and only once
 * the whole Job is complete.
 */
export function aggregateJob(input: AggregateInput): AggregateStatus {
  const status: AggregateStatus = {
    succeeded: extreme(input, 'succeeded', Math.min),
    failed: extreme(input, 'failed', Math.max),
    active: extreme(input, 'active', Math.max),
    ready: extreme(input, 'ready', Math.min),
  };
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
