import type { ScheduledEvent } from 'aws-lambda';
import {
  buildMetricsRollupDeps,
  makeMetricsRollupHandler,
  type MetricsRollupReport,
} from '../../lib/runtime/metrics-rollup';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/**
 * Scheduled (EventBridge, every minute): the gauges that need state, published as EMF and, when configured, pushed by
 * Prometheus remote-write (lib/runtime/metrics-rollup.ts).
 */
export const handler = wrapHandler<ScheduledEvent, MetricsRollupReport>('metrics-rollup', () => {
  const deps = buildMetricsRollupDeps();
  const rollup = makeMetricsRollupHandler(deps);
  return { handle: () => rollup(), metrics: deps.metrics };
});
