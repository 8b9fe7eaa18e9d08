import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildSyncApplyDeps, makeSyncApplyHandler, type SyncApplyHandler } from '../../lib/runtime/sync-apply';

/**
 * sync-apply: applies placed objects to physical clusters (lib/sync/apply.ts). Reports partial batch failures; deps
 * are built on the first invocation so a bad environment fails the call with the variable's name.
 */
let deps: ReturnType<typeof buildSyncApplyDeps> | undefined;
let inner: SyncApplyHandler | undefined;

async function syncApply(event: SQSEvent): Promise<SQSBatchResponse> {
  if (!inner) {
    deps = buildSyncApplyDeps();
    inner = makeSyncApplyHandler(deps);
  }
  try {
    return await inner(event);
  } finally {
    deps?.metrics.flush();
  }
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler((event, context) =>
  withInvocationDeadline(context, () => syncApply(event)),
);
