import type { SQSBatchResponse } from 'aws-lambda';
import { buildStatusUpDeps, makeStatusUpHandler, type StatusUpEvent } from '../../lib/runtime/status-up';
import { wrapHandler } from '../../lib/runtime/wrap-handler';
import type { BackstopSummary } from '../../lib/sync/status/status-up';

/**
 * status-up: downstream status back into kcp (lib/sync/status). Fed by the status queue (partial batch failures) and
 * by the `status-backstop` schedule.
 */
export const handler = wrapHandler<StatusUpEvent, SQSBatchResponse | BackstopSummary>('status-up', () => {
  const deps = buildStatusUpDeps();
  return { handle: makeStatusUpHandler(deps), metrics: deps.metrics };
});
