import type { ScheduledEvent } from 'aws-lambda';
import type { ProbeRunReport } from '../../lib/health/probe-clusters';
import { buildHealthProbeDeps, makeHealthProbeHandler } from '../../lib/runtime/health-probe';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/** Scheduled (EventBridge, every minute): probes every SyncTarget's cluster and records its health (lib/health). */
export const handler = wrapHandler<ScheduledEvent, ProbeRunReport>('health-probe', () => {
  const deps = buildHealthProbeDeps();
  const probe = makeHealthProbeHandler(deps);
  return { handle: () => probe(), metrics: deps.metrics };
});
