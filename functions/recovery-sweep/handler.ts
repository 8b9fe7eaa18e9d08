import type { ScheduledEvent } from 'aws-lambda';
import type { RecoverySweepReport } from '../../lib/recovery/deps';
import { buildRecoverySweepDeps, makeRecoverySweepHandler } from '../../lib/runtime/recovery-sweep';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/**
 * Scheduled (EventBridge, every minute): failover, graceful cleanup, stuck syncs, drift, orphans, deletion holds and
 * DLQ redrive (lib/recovery).
 */
export const handler = wrapHandler<ScheduledEvent, RecoverySweepReport>('recovery-sweep', () => {
  const deps = buildRecoverySweepDeps();
  const sweep = makeRecoverySweepHandler(deps);
  return { handle: () => sweep(), metrics: deps.metrics };
});
