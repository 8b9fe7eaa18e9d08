import type { StatusMessage } from '../api/messages';
import type { ObjectRef } from '../api/object-ref';

/**
 * A cluster whose own status report will refresh the kcp object: an apply that moved the downstream object's
 * generation of a kind whose controller always answers a new generation with a status update (`observedGeneration`),
 * which the cluster's status webhook brings to status-up.
 */
export interface ReportFollows {
  cluster: string;
  downstreamGeneration: number;
}

/** What sync-apply and placement need of a status reporter: ask for a refresh; the answer is not read. */
export interface StatusRefresher {
  /**
   * With `follows`, the refresh may be left to that cluster's report (RefreshAfterBatch); with `rerun`, its write may
   * be held back while other clusters' applies are on their way, and `rerun` (a status message that refreshes) is
   * then sent to come back by itself. A reporter may ignore both.
   */
  refresh(ref: ObjectRef, follows?: ReportFollows, rerun?: StatusMessage): Promise<unknown>;
}
