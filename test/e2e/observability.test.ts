import { execFile } from 'node:child_process';
import { downstreamNamespace } from '../../lib/api/labels';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { startPrometheus, type PrometheusServer } from '../support/prometheus';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * Observability on the whole local stack, driven by the real kubectl: one change to kcp increments the expected
 * counters at /metrics (through the api function, with the token) and records a sync-lag sample; `tmc trace` (the
 * real CLI, as a user runs it) prints every step of that change; metrics-rollup's gauges reach /metrics and, with
 * `--prometheus-remote-write`, a real Prometheus.
 */

type Samples = Map<string, number>;

/** Prometheus text format → `name{a="x",b="y"}` (labels sorted) → value. */
function parseExposition(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    out.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return out;
}

function series(name: string, labels: Record<string, string> = {}): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',')}}`;
}

function runTmc(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', ['bin/tmc.mjs', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('observability: counters, sync lag, tmc trace, rollup and remote-write on the local stack', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    prometheus = await startPrometheus();
    stack = await startE2eStack({ prometheusRemoteWriteUrl: `${prometheus.url}/api/v1/write` });
    await stack.idle();
  });
  afterAll(async () => {
    await stack?.cleanup();
    await prometheus?.stop();
  });

  async function scrape(): Promise<Samples> {
    const res = await fetch(`${stack.apiUrl}/metrics`, { headers: { authorization: `Bearer ${stack.webhookToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    return parseExposition(await res.text());
  }

  it('refuses /metrics without the token', async () => {
    const res = await fetch(`${stack.apiUrl}/metrics`);
    expect(res.status).toBe(401);
  });

  it('one Deployment change increments the counters, records a lag sample, and tmc trace shows every step', async () => {
    const before = await scrape();
    const value = (s: Samples, name: string, labels?: Record<string, string>): number =>
      s.get(series(name, labels)) ?? 0;

    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', 'examples/basic-setup/nginx.yaml']);
    await waitFor(
      'readyReplicas 2 in kcp',
      async () =>
        (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'default']))?.status?.readyReplicas ===
        2,
    );

    // The real CLI, as a user runs it against the running stack: it finds dynalite through the state dir.
    const traced = await waitFor('a complete trace', async () => {
      const r = await runTmc(['trace', 'deployment/nginx', '--state-dir', stack.paths.root, '--json']);
      if (r.code !== 0) return undefined;
      const path = JSON.parse(r.stdout) as {
        waiting: string[];
        steps: Array<{ step: string; at?: string; sincePrevious?: number }>;
      };
      return path.waiting.length === 0 && path.steps.some((s) => s.step.startsWith('status:') && s.at !== undefined)
        ? path
        : undefined;
    });
    const stepNames = traced.steps.map((s) => s.step);
    const cluster = stepNames.find((s) => s.startsWith('applied:'))?.slice('applied:'.length) ?? '';
    expect(stepNames).toEqual(['ingress', 'placed', `applied:${cluster}`, `status:${cluster}`]);
    expect(traced.steps.every((s) => s.at !== undefined)).toBe(true);
    // The cluster the trace names is the one running it.
    const downstream = await kubectlGetJson(stack.clusterKubeconfigs[cluster], [
      'deployment',
      'nginx',
      '-n',
      downstreamNamespace('root:default', 'default'),
    ]);
    expect(downstream?.spec.replicas).toBe(2);

    const table = await runTmc(['trace', 'deployment/nginx', '--state-dir', stack.paths.root]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Deployment default/nginx in root:default');
    expect(table.stdout).toMatch(
      new RegExp(`applied:${cluster}\\s+\\S+\\s+\\d+\\.\\d{3}s\\s+\\d+\\.\\d{3}s\\s+applied`),
    );
    expect(table.stdout).toMatch(
      new RegExp(`status:${cluster}\\s+\\S+\\s+\\d+\\.\\d{3}s\\s+\\d+\\.\\d{3}s\\s+written`),
    );

    const after = await scrape();
    const resource = 'apps/v1/deployments';
    const delta = (name: string, labels?: Record<string, string>): number =>
      value(after, name, labels) - value(before, name, labels);
    expect(delta('tmc_sync_operations_total', { result: 'applied', cluster, resource })).toBe(1);
    expect(delta('tmc_sync_lag_seconds_count', { cluster })).toBe(1);
    expect(delta('tmc_sync_lag_seconds_sum', { cluster })).toBeGreaterThan(0);
    // Two decisions: the namespace `default` (placed first, its objects follow it) and the Deployment.
    expect(delta('tmc_placement_decisions_total', { result: 'scheduled' })).toBe(2);
    expect(delta('tmc_placement_duration_seconds_count', { result: 'placed' })).toBeGreaterThanOrEqual(1);
    expect(delta('tmc_status_updates_total', { result: 'written' })).toBeGreaterThanOrEqual(1);
    expect(delta('tmc_status_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(delta('tmc_function_invocations_total', { function: 'sync-apply', result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(delta('tmc_webhook_requests_total', { route: 'admission', code: '200' })).toBeGreaterThanOrEqual(1);
    expect(delta('tmc_messages_enqueued_total', { queue: 'sync' })).toBeGreaterThanOrEqual(1);
  });

  it('metrics-rollup publishes the stateful gauges at /metrics and pushes them to Prometheus', async () => {
    await stack.idle();
    await stack.runSchedule('metrics-rollup');
    const samples = await scrape();
    // nginx and its namespace on one cluster: at least two applied object-cluster pairs, none pending.
    expect(samples.get(series('tmc_objects', { state: 'applied' }))).toBeGreaterThanOrEqual(2);
    expect(samples.get(series('tmc_objects', { state: 'pending' }))).toBe(0);
    expect(samples.get(series('tmc_clusters', { state: 'Unknown' })) ?? 0).toBeLessThanOrEqual(3);
    expect(samples.get(series('tmc_queue_backlog_messages', { queue: 'sync' }))).toBe(0);
    expect(samples.get(series('tmc_remote_write_pushes_total', { result: 'ok' }))).toBe(1);

    const applied = await prometheus.query(
      'sum(tmc_sync_operations_total{result="applied",resource="apps/v1/deployments"})',
    );
    expect(Number(applied[0]?.value[1])).toBe(1);
    const objects = await prometheus.query('tmc_objects{state="applied"}');
    expect(Number(objects[0]?.value[1])).toBe(samples.get(series('tmc_objects', { state: 'applied' })));
  });
});
