import { systemClock, type Clock } from '../ports/clock';
import { asTmcError } from '../errors/tmc-error';
import type { HealthStore } from '../ports/health-store';
import type { WorkQueue } from '../ports/work-queue';
import { clusterChangeMessage } from './cluster-change-message';
import { recordClusterObservation, type ClusterHealthChange } from './record-observation';
import type { ClusterThresholds } from './rules';

export interface ClusterFailureReporterDeps {
  store: HealthStore;
  thresholds?: ClusterThresholds;
  /** When given (and the caller names the workspace), a transition into Unhealthy enqueues a placement message. */
  placementQueue?: WorkQueue;
  now?: Clock;
}

/**
 * Feeds a failure seen while talking to a cluster into its health at once, so an Unhealthy verdict (and the failover
 * it triggers) does not wait for the next probe tick. Only `cluster-unreachable` errors count: a 5xx or a 429 means
 * the API server answered, which the probe judges better than one request. Resolves undefined when nothing was
 * recorded.
 */
export type ReportClusterFailure = (
  cluster: string,
  err: unknown,
  context?: { workspace?: string },
) => Promise<ClusterHealthChange | undefined>;

export function makeClusterFailureReporter(deps: ClusterFailureReporterDeps): ReportClusterFailure {
  const now = deps.now ?? systemClock;
  return async (cluster, err, context = {}) => {
    const error = asTmcError(err);
    if (error.category !== 'cluster-unreachable') return undefined;
    const at = now();
    const change = await recordClusterObservation(
      deps.store,
      cluster,
      { at: new Date(at).toISOString(), ok: false, source: 'sync', detail: error.message.slice(0, 300) },
      { thresholds: deps.thresholds, workspace: context.workspace },
    );
    const workspace = context.workspace ?? change.next.workspace;
    if (change.unhealthyChanged && deps.placementQueue !== undefined && workspace !== undefined) {
      await deps.placementQueue.send([clusterChangeMessage(workspace, cluster, at)]);
    }
    return change;
  };
}
