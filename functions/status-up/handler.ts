import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import type { SQSBatchResponse } from 'aws-lambda';
import {
  buildStatusUpDeps,
  makeStatusUpHandler,
  type StatusUpEvent,
  type StatusUpHandler,
} from '../../lib/runtime/status-up';
import type { BackstopSummary } from '../../lib/sync/status/status-up';

/**
 * status-up: downstream status back into kcp (lib/sync/status). Fed by the status queue (partial batch failures) and
 * by the `status-backstop` schedule.
 */
let deps: ReturnType<typeof buildStatusUpDeps> | undefined;
let inner: StatusUpHandler | undefined;

async function statusUp(event: StatusUpEvent): Promise<SQSBatchResponse | BackstopSummary> {
  if (!inner) {
    deps = buildStatusUpDeps();
    inner = makeStatusUpHandler(deps);
  }
  try {
    return await inner(event);
  } finally {
    deps?.metrics.flush();
  }
}

export const handler = middy<StatusUpEvent, SQSBatchResponse | BackstopSummary>().handler((event, context) =>
  withInvocationDeadline(context, () => statusUp(event)),
);
