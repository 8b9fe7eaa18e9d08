import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import type { ScheduledEvent } from 'aws-lambda';
import type { ProbeRunReport } from '../../lib/health/probe-clusters';
import { buildHealthProbeDeps, makeHealthProbeHandler, type HealthProbeHandler } from '../../lib/runtime/health-probe';

/**
 * Scheduled (EventBridge, every minute): probes every SyncTarget's cluster and records its health (lib/health).
 * Deps are built on the first invocation, not at import, so a bad environment fails the call with its variable's name.
 */
let deps: ReturnType<typeof buildHealthProbeDeps> | undefined;
let inner: HealthProbeHandler | undefined;

async function healthProbe(_event: ScheduledEvent): Promise<ProbeRunReport> {
  if (!inner) {
    deps = buildHealthProbeDeps();
    inner = makeHealthProbeHandler(deps);
  }
  try {
    return await inner();
  } finally {
    deps?.metrics.flush();
  }
}

export const handler = middy<ScheduledEvent, ProbeRunReport>().handler((event, context) =>
  withInvocationDeadline(context, () => healthProbe(event)),
);
