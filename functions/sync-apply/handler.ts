import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildSyncApplyDeps, makeSyncApplyHandler } from '../../lib/runtime/sync-apply';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/** sync-apply: applies placed objects to physical clusters (lib/sync/apply.ts); reports partial batch failures. */
export const handler = wrapHandler<SQSEvent, SQSBatchResponse>('sync-apply', () => {
  const deps = buildSyncApplyDeps();
  return { handle: makeSyncApplyHandler(deps), metrics: deps.metrics };
});
