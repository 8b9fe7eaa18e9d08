import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { METRICS } from '../../../lib/metrics/catalog';
import { PromMetrics } from '../../../lib/metrics/prom-metrics';
import { collectTimeseries, RemoteWritePublisher } from '../../../lib/metrics/remote-write';
import { type PrometheusServer, startPrometheus } from '../../support/prometheus';

/**
 * Every query of config/grafana/tmc-dashboard.json runs on a real Prometheus holding series shaped exactly as tmc's
 * registry produces them (every catalog metric, pushed by remote-write twice, a minute apart), and returns data: the
 * PromQL parses, and its names, labels and histogram suffixes select what tmc writes.
 */

const DashboardSchema = z.object({
  panels: z.array(z.object({ title: z.string(), targets: z.array(z.object({ expr: z.string() })).optional() })),
});
const QueryAnswerSchema = z.object({
  status: z.string(),
  error: z.string().optional(),
  data: z.object({ result: z.array(z.unknown()) }).optional(),
});

const dashboard = DashboardSchema.parse(JSON.parse(readFileSync('config/grafana/tmc-dashboard.json', 'utf8')));
const queries = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$__rate_interval', '5m') })),
);

/** Label values that the dashboard's selectors look for (error results, failed syncs, 5xx webhooks), plus ordinary ones. */
const VALUES: Record<string, string[]> = { result: ['ok', 'error', 'applied', 'failed'], code: ['200', '503'] };

function labelSets(labels: readonly string[]): Array<Record<string, string>> {
  let sets: Array<Record<string, string>> = [{}];
  for (const label of labels) sets = sets.flatMap((s) => (VALUES[label] ?? ['x']).map((v) => ({ ...s, [label]: v })));
  return sets;
}

function record(metrics: PromMetrics, step: number): void {
  for (const def of METRICS) {
    for (const labels of labelSets(def.labels)) {
      if (def.type === 'counter') metrics.increment(def.name, labels, step);
      else if (def.type === 'gauge') metrics.gauge(def.name, labels, step);
      else metrics.observe(def.name, labels, 0.1 * step);
    }
  }
}

describe('Grafana dashboard queries on a real Prometheus', () => {
  let prom: PrometheusServer;

  beforeAll(async () => {
    prom = await startPrometheus();
    const metrics = new PromMetrics();
    const publisher = new RemoteWritePublisher({ url: `${prom.url}/api/v1/write`, auth: { type: 'none' } });
    const now = Date.now();
    record(metrics, 1);
    await publisher.push(await collectTimeseries(metrics.registry, now - 60_000));
    record(metrics, 2);
    await publisher.push(await collectTimeseries(metrics.registry, now));
  });
  afterAll(async () => {
    await prom?.stop();
  });

  it.each(queries)('$panel: $expr', async ({ expr }) => {
    const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const answer = QueryAnswerSchema.parse(await res.json());
    expect({ status: answer.status, error: answer.error }).toEqual({ status: 'success', error: undefined });
    expect(answer.data?.result.length ?? 0).toBeGreaterThan(0);
  });
});
