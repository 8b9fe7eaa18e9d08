import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import type { ScheduledEvent } from 'aws-lambda';
import {
  buildMetricsRollupDeps,
  makeMetricsRollupHandler,
  type MetricsRollupHandler,
  type MetricsRollupReport,
} from '../../lib/runtime/metrics-rollup';

/**
 * Scheduled (EventBridge, every minute): the gauges that need state, published as EMF and, when configured, pushed by
 * Prometheus remote-write (lib/runtime/metrics-rollup.ts). Deps are built on the first invocation so a bad
 * environment fails the call with its variable's name.
 */
let deps: ReturnType<typeof buildMetricsRollupDeps> | undefined;
let inner: MetricsRollupHandler | undefined;

async function metricsRollup(_event: ScheduledEvent): Promise<MetricsRollupReport> {
  if (!inner) {
    deps = buildMetricsRollupDeps();
    inner = makeMetricsRollupHandler(deps);
  }
  try {
    return await inner();
  } finally {
    deps?.metrics.flush();
  }
}

export const handler = middy<ScheduledEvent, MetricsRollupReport>().handler((event, context) =>
  withInvocationDeadline(context, () => metricsRollup(event)),
);
