import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import type { ScheduledEvent } from 'aws-lambda';
import type { RecoverySweepReport } from '../../lib/recovery/deps';
import {
  buildRecoverySweepDeps,
  makeRecoverySweepHandler,
  type RecoverySweepHandler,
} from '../../lib/runtime/recovery-sweep';

/**
 * Scheduled (EventBridge, every minute): failover, graceful cleanup, stuck syncs, drift, orphans, deletion holds and
 * DLQ redrive (lib/recovery). Deps are built on the first invocation, so a bad environment fails the call by name.
 */
let deps: ReturnType<typeof buildRecoverySweepDeps> | undefined;
let inner: RecoverySweepHandler | undefined;

async function recoverySweep(_event: ScheduledEvent): Promise<RecoverySweepReport> {
  if (!inner) {
    deps = buildRecoverySweepDeps();
    inner = makeRecoverySweepHandler(deps);
  }
  try {
    return await inner();
  } finally {
    deps?.metrics.flush();
  }
}

export const handler = middy<ScheduledEvent, RecoverySweepReport>().handler((event, context) =>
  withInvocationDeadline(context, () => recoverySweep(event)),
);
