import { silentLog } from '../../../lib/observability/log';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { METRICS } from '../../../lib/metrics/catalog';
import { PromMetrics } from '../../../lib/metrics/prom-metrics';
import { RemoteWritePublisher } from '../../../lib/metrics/remote-write';
import { ROLLUP_GAUGES, type RollupSources } from '../../../lib/metrics/rollup';
import type { Metrics } from '../../../lib/ports/telemetry';
import { createFunctionMetrics } from '../../../lib/runtime/metrics';
import { makeMetricsRollupHandler } from '../../../lib/runtime/metrics-rollup';
import { type PrometheusServer, startPrometheus } from '../../support/prometheus';

/**
 * Every query of config/grafana/tmc-dashboard.json runs on a real Prometheus fed the way the cloud feeds it: each
 * function's container pushes what it records (createFunctionMetrics with a remote-write target, as in Lambda), and
 * metrics-rollup pushes its snapshot. Every catalog metric is recorded where the cloud records it, each function's
 * push and the rollup's go through a proxy that checks the spec's headers, and every query returns data: no panel
 * reads a series the cloud path does not push.
 */

const DashboardSchema = z.object({
  panels: z.array(z.object({ title: z.string(), targets: z.array(z.object({ expr: z.string() })).optional() })),
});
const QueryAnswerSchema = z.object({
  status: z.string(),
  error: z.string().optional(),
  data: z.object({ result: z.array(z.object({ metric: z.record(z.string(), z.string()) }).loose()) }).optional(),
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

/** What the functions record: every catalog metric, but the gauges only the rollup computes. */
function record(metrics: Metrics, step: number): void {
  for (const def of METRICS) {
    if (ROLLUP_GAUGES.has(def.name)) continue;
    for (const labels of labelSets(def.labels)) {
      if (def.type === 'counter') metrics.increment(def.name, labels, step);
      else if (def.type === 'gauge') metrics.gauge(def.name, labels, step);
      else metrics.observe(def.name, labels, 0.1 * step);
    }
  }
}

/** A table with one cluster in each state worth a panel. */
const sources: RollupSources = {
  clusterHealth: async () => [
    { cluster: 'east', state: 'Healthy' },
    { cluster: 'west', state: 'Unhealthy' },
  ],
  knownClusters: async () => ['east', 'west'],
  syncStates: async (cluster) => [
    { state: 'applied', updatedAt: '2026-12-06T10:00:00Z' },
    { state: cluster === 'west' ? 'pending' : 'applied', updatedAt: '2026-12-06T10:00:00Z' },
  ],
  circuit: async (cluster) => (cluster === 'west' ? 'open' : undefined),
  queueDepths: async () => [{ queue: 'sync', visible: 2, inFlight: 1, delayed: 0, dlq: 1 }],
};

describe('Grafana dashboard queries on a real Prometheus fed by the cloud path', () => {
  let prom: PrometheusServer;
  let proxy: Server;
  const pushes: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    prom = await startPrometheus();
    // Records each push's headers and hands the body to the real Prometheus, which decodes snappy and protobuf.
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        pushes.push(req.headers);
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
        );
        delete headers.host;
        delete headers['content-length'];
        fetch(`${prom.url}${req.url ?? ''}`, { method: 'POST', headers, body: Buffer.concat(chunks) })
          .then(async (answer) => res.writeHead(answer.status).end(await answer.text()))
          .catch(() => res.writeHead(502).end());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const env = {
      TMC_PROMETHEUS_REMOTE_WRITE_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api/v1/write`,
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/12/06/[$LATEST]0123456789abcdef',
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
    // Two invocations of one function container, each pushing at its end (rate() needs two samples).
    const fn = createFunctionMetrics('sync-apply', env);
    for (const step of [1, 2]) {
      record(fn, step);
      await fn.endInvocation?.();
    }
    // Two rollup runs, a minute apart, through its own metrics (which push its counters) and its snapshot push.
    const rollupMetrics = createFunctionMetrics('metrics-rollup', env);
    const target = { url: env.TMC_PROMETHEUS_REMOTE_WRITE_URL, auth: { type: 'none' as const } };
    const now = Date.now();
    for (const at of [now - 60_000, now]) {
      const report = await makeMetricsRollupHandler({
        sources,
        metrics: rollupMetrics,
        registry: () => new PromMetrics(),
        publisher: new RemoteWritePublisher(target),
        log: silentLog,
        now: () => at,
      })();
      expect(report.pushError).toBeUndefined();
    }
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    await prom?.stop();
  });

  it('pushed with the headers the remote-write spec requires, from the functions and from the rollup', () => {
    // 2 function invocations, 2 rollup snapshots, 2 rollup invocations.
    expect(pushes).toHaveLength(6);
    for (const headers of pushes)
      expect(headers).toMatchObject({
        'content-encoding': 'snappy',
        'content-type': 'application/x-protobuf',
        'x-prometheus-remote-write-version': '0.1.0',
      });
  });

  it.each(queries)('$panel: $expr', async ({ expr }) => {
    const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const answer = QueryAnswerSchema.parse(await res.json());
    expect({ status: answer.status, error: answer.error }).toEqual({ status: 'success', error: undefined });
    expect(answer.data?.result.length ?? 0).toBeGreaterThan(0);
  });

  it("labels a function's series with its container, and the rollup's gauges with none (no double count)", async () => {
    const series = async (expr: string): Promise<Array<Record<string, string>>> => {
      const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (QueryAnswerSchema.parse(await res.json()).data?.result ?? []).map((r) => r.metric);
    };
    const ops = await series('tmc_sync_operations_total');
    expect(ops.length).toBeGreaterThan(0);
    for (const labels of ops) expect(labels.instance).toMatch(/^sync-apply-[0-9a-f]{10}$/);
    const clusters = await series('tmc_clusters');
    expect(clusters.map((l) => [l.state, l.instance])).toEqual(expect.arrayContaining([['Unhealthy', undefined]]));
    for (const labels of clusters) expect(labels.instance).toBeUndefined();
    // The rollup's own counters go out from its container like any function's.
    const pushesTotal = await series('tmc_remote_write_pushes_total{result="ok"}');
    expect(pushesTotal.map((l) => l.instance)).toContainEqual(expect.stringMatching(/^metrics-rollup-[0-9a-f]{10}$/));
  });
});
