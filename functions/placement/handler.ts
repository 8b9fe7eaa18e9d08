import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildPlacementDeps, makePlacementHandler } from '../../lib/runtime/placement';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/** placement: decides where each object runs (lib/placement/reconcile.ts); reports partial batch failures. */
export const handler = wrapHandler<SQSEvent, SQSBatchResponse>('placement', () => {
  const deps = buildPlacementDeps();
  return { handle: makePlacementHandler(deps), metrics: deps.metrics };
});
