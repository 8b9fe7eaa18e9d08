import type { PromMetrics } from './prom-metrics';

/** What `GET /metrics` answers with (the api function's MetricsRenderer seam, lib/api-http/api-router.ts). */
export interface RenderedMetrics {
  contentType: string;
  body: string;
  statusCode?: number;
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** The local stack: the whole process's registry in the Prometheus text format. */
export function promMetricsRenderer(metrics: PromMetrics): { render(): Promise<RenderedMetrics> } {
  return { render: async () => ({ contentType: PROMETHEUS_TEXT, body: await metrics.render() }) };
}

/**
 * The cloud: 501. A Lambda container holds only the counters of the invocations it served, so a scrape of one would
 * be a random, partial view. Metrics go to CloudWatch (EMF, namespace `tmc`) and, when configured, to Prometheus by
 * remote-write from metrics-rollup; the body says so (docs/metrics.md).
 */
export function cloudMetricsRenderer(): { render(): Promise<RenderedMetrics> } {
  return {
    render: async () => ({
      statusCode: 501,
      contentType: 'text/plain; charset=utf-8',
      body:
        'tmc does not serve /metrics in the cloud: each Lambda container holds only its own counters. ' +
        'Read CloudWatch metrics in namespace tmc (dashboard tmc-<stage>), or set TMC_PROMETHEUS_REMOTE_WRITE_URL to have ' +
        'metrics-rollup push to Prometheus. See docs/metrics.md.\n',
    }),
  };
}
