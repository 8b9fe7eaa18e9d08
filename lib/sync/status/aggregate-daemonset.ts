import { observedKcpGeneration, sumFields } from './status-fields';
import type { AggregateInput, AggregateStatus } from './types';

const DAEMONSET_FIELDS = [
  'currentNumberScheduled',
  'desiredNumberScheduled',
  'numberMisscheduled',
  'numberReady',
  'numberAvailable',
  'numberUnavailable',
  'updatedNumberScheduled',
] as const;

/** DaemonSet: every count summed across clusters (a DaemonSet's desired count is per node, so sums are the truth). */
export function aggregateDaemonSet(input: AggregateInput): AggregateStatus {
  const status: AggregateStatus = sumFields(input.clusters, DAEMONSET_FIELDS);
  const observed = observedKcpGeneration(input.generation, input.clusters);
  return observed === undefined ? status : { ...status, observedGeneration: observed };
}
