import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildPlacementDeps, makePlacementHandler, type PlacementHandler } from '../../lib/runtime/placement';

/**
 * placement: decides where each object runs (lib/placement/reconcile.ts). Reports partial batch failures; deps are
 * built on the first invocation so a bad environment fails the call with the variable's name.
 */
let deps: ReturnType<typeof buildPlacementDeps> | undefined;
let inner: PlacementHandler | undefined;

async function placement(event: SQSEvent): Promise<SQSBatchResponse> {
  if (!inner) {
    deps = buildPlacementDeps();
    inner = makePlacementHandler(deps);
  }
  try {
    return await inner(event);
  } finally {
    deps?.metrics.flush();
  }
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler((event, context) =>
  withInvocationDeadline(context, () => placement(event)),
);
