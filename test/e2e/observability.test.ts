import { storedMessage } from '../../lib/adapters/dynamodb/decision-item';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { objPk } from '../../lib/adapters/dynamodb/keys';
import { downstreamNamespace } from '../../lib/api/labels';
import type { ObjectRef } from '../../lib/api/object-ref';
import type { TracePath, TraceNow } from '../../lib/observability/trace-path';
import { makeDynamoDocumentClient } from '../../lib/runtime/aws';
import { TABLE } from '../../lib/runtime/resources';
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

  // Last in this file: its Placement leaves namespace `default` (nginx above) selected by none.
  describe('tmc trace agrees with DynamoDB (issue 14)', () => {
    type Item = Record<string, any>;
    /** Liveness limit of every wait below: a loaded machine takes its time, a broken one never gets there. */
    const LIVENESS = { timeoutMs: 120_000 };
    const ref = (kind: string, resource: string, namespace: string, name: string): ObjectRef => ({
      workspace: 'root:default',
      group: kind === 'Deployment' ? 'apps' : '',
      version: 'v1',
      resource,
      kind,
      namespace,
      name,
    });
    const web = ref('Deployment', 'deployments', 'traced', 'web');
    const settings = ref('ConfigMap', 'configmaps', 'traced', 'settings');
    const gone = ref('ConfigMap', 'configmaps', 'traced', 'gone');
    const held = ref('Service', 'services', 'traced', 'held');
    const lonely = ref('ConfigMap', 'configmaps', 'default', 'lonely');
    const nginx = ref('Deployment', 'deployments', 'default', 'nginx');

    /** Every item of the object's partition, read directly (strongly consistent). */
    async function itemsOf(object: ObjectRef): Promise<Item[]> {
      const doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: stack.endpoints.dynamodb });
      try {
        const out = await doc.send(
          new QueryCommand({
            TableName: stack.tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
            ExpressionAttributeValues: { ':pk': objPk(object) },
            ConsistentRead: true,
          }),
        );
        return out.Items ?? [];
      } finally {
        doc.destroy();
      }
    }
    const bySk = (items: Item[], prefix: string): Item[] =>
      items.filter((i) => String(i[TABLE.sortKey]).startsWith(prefix));

    /** What `now` must say, derived from the DECISION, SYNC# and STATUS# items alone. */
    function nowFromItems(items: Item[], readAt: string): TraceNow {
      const decision = bySk(items, 'DECISION')[0];
      const placed: string[] = (decision?.clusters ?? []).map((c: Item) => c.name ?? c.cluster);
      const sync = new Map(bySk(items, 'SYNC#').map((i) => [i.cluster as string, i]));
      // A removed copy's bare expiry mark holds no status (docs/state.md): not a report.
      const status = new Map(
        bySk(items, 'STATUS#')
          .filter((i) => i.status !== undefined)
          .map((i) => [i.cluster as string, i]),
      );
      const clusters = [...new Set([...placed, ...sync.keys(), ...status.keys()])].sort();
      return {
        readAt,
        ...(decision
          ? {
              decision: {
                version: decision.decisionVersion,
                clusters: placed,
                ...(decision.scheduled !== undefined ? { scheduled: decision.scheduled } : {}),
                ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
                // The item keeps the text around its cluster list (docs/state.md): read as tmc does.
                ...(storedMessage(decision, placed) !== undefined ? { message: storedMessage(decision, placed) } : {}),
              },
            }
          : {}),
        clusters: clusters.map((cluster) => {
          const s = sync.get(cluster);
          const st = status.get(cluster);
          return {
            cluster,
            placed: placed.includes(cluster),
            sync: s?.state ?? 'none',
            ...(s
              ? {
                  decisionVersion: s.decisionVersion,
                  appliedGeneration: s.appliedGeneration,
                  updatedAt: s.updatedAt,
                  ...(s.appliedAt ? { appliedAt: s.appliedAt } : {}),
                  ...(s.lastError ? { error: s.lastError.message } : {}),
                }
              : {}),
            ...(st
              ? {
                  status: {
                    observedAt: st.observedAt,
                    ageSeconds: Math.max(0, (Date.parse(readAt) - Date.parse(st.observedAt)) / 1000),
                  },
                }
              : {}),
          };
        }),
      };
    }

    /** `tmc trace --json`, run between two reads of the partition that agree (nothing changed meanwhile). */
    async function traced(object: ObjectRef): Promise<{ path: TracePath; items: Item[] }> {
      const arg = `${object.kind.toLowerCase()}/${object.name}`;
      return waitFor(
        `tmc trace ${arg} between two equal reads of its items`,
        async () => {
          const before = await itemsOf(object);
          const r = await runTmc([
            'trace',
            arg,
            '-n',
            object.namespace ?? '',
            '--state-dir',
            stack.paths.root,
            '--json',
          ]);
          const after = await itemsOf(object);
          if (r.code !== 0 || JSON.stringify(before) !== JSON.stringify(after)) return undefined;
          return { path: JSON.parse(r.stdout) as TracePath, items: after };
        },
        LIVENESS,
      );
    }

    /** The trace states what the items say, and its path waits for exactly what they show undone. */
    async function expectAgreement(object: ObjectRef): Promise<TracePath> {
      const { path, items } = await traced(object);
      const now = path.now!;
      expect(now).toEqual(nowFromItems(items, now.readAt));
      const undone = now.clusters
        .filter((c) => (c.placed ? c.sync !== 'applied' : c.sync !== 'none' && c.sync !== 'deleted'))
        .map((c) => `applied:${c.cluster}`);
      expect(path.waiting.filter((w) => w !== 'placed').sort()).toEqual(undone.sort());
      expect(path.waiting.includes('placed')).toBe(path.steps.find((s) => s.step === 'placed')?.at === undefined);
      const shown = path.steps.filter((s) => s.step.startsWith('applied:')).map((s) => s.cluster);
      for (const c of now.clusters.filter((c) => c.placed || c.sync !== 'none')) expect(shown).toContain(c.cluster);
      return path;
    }

    const syncStates = async (object: ObjectRef): Promise<Record<string, string>> =>
      Object.fromEntries(bySk(await itemsOf(object), 'SYNC#').map((i) => [i.cluster, i.state]));
    const kcp = (args: string[], input?: string): Promise<string> => kubectlOk(stack.kcpKubeconfig, args, input);
    let clusters: string[] = [];
    const everywhere = (state: string): Record<string, string> => Object.fromEntries(clusters.map((c) => [c, state]));

    beforeAll(async () => {
      clusters = Object.keys(stack.clusterKubeconfigs).sort();
      await kcp(
        ['apply', '-f', '-'],
        [
          'apiVersion: v1\nkind: Namespace\nmetadata: { name: traced, labels: { tmc-trace: "on" } }',
          `apiVersion: scheduling.kcp.io/v1alpha1\nkind: Placement\nmetadata: { name: traced }\nspec:\n  namespaceSelector: { matchLabels: { tmc-trace: "on" } }\n  numberOfClusters: ${clusters.length}`,
          'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: gone, namespace: traced }\ndata: { k: v }',
          'apiVersion: v1\nkind: Service\nmetadata: { name: held, namespace: traced }\nspec: { selector: { app: web }, ports: [{ port: 80, targetPort: 80 }] }',
        ].join('\n---\n'),
      );
      await kcp(
        ['apply', '-f', '-'],
        readFileSync('examples/basic-setup/nginx.yaml', 'utf8')
          .replace(/name: nginx/, 'name: web')
          .replace('namespace: default', 'namespace: traced'),
      );
      for (const object of [web, gone, held])
        await waitFor(
          `${object.name} applied on every cluster`,
          async () =>
            JSON.stringify(await syncStates(object)) === JSON.stringify(everywhere('applied')) ? true : undefined,
          LIVENESS,
        );
      await waitFor(
        'web reported by every cluster',
        async () => (bySk(await itemsOf(web), 'STATUS#').length === clusters.length ? true : undefined),
        LIVENESS,
      );

      // One cluster refuses ConfigMap writes, another Service deletes (429), for as long as this describe runs.
      const sim = stack.simulation!;
      sim.clusters[clusters[0]!].faults.set({
        rules: [{ match: { verb: 'patch', resource: 'configmaps' }, respond: 429 }],
      });
      sim.clusters[clusters[2]!].faults.set({
        rules: [{ match: { verb: 'delete', resource: 'services' }, respond: 429 }],
      });
      await kcp(['create', 'configmap', 'settings', '-n', 'traced', '--from-literal=k=v']);
      await kcp(['delete', 'configmap', 'gone', '-n', 'traced', '--wait=false']);
      await kcp(['delete', 'service', 'held', '-n', 'traced', '--wait=false']);
      await kcp(['create', 'configmap', 'lonely', '-n', 'default', '--from-literal=k=v']);
      // A create whose enqueue outlasted the webhook's wait on a loaded machine is sent from the admission outbox by the
      // recovery sweep, which the deployed schedule runs every minute and this stack does not: run it while one waits.
      let sweptAt = Date.now();
      for (const object of [settings, lonely])
        await waitFor(
          `a decision for ${object.name}`,
          async () => {
            if (bySk(await itemsOf(object), 'DECISION').length) return true;
            if (Date.now() - sweptAt > 20_000) {
              sweptAt = Date.now();
              await stack.runSchedule('recovery-sweep');
            }
            return undefined;
          },
          LIVENESS,
        );
    }, 600_000);
    afterAll(() => {
      for (const c of Object.values(stack.simulation?.clusters ?? {})) c.faults.clear();
    });

    it('applied on every cluster, with each status and its age', async () => {
      const path = await expectAgreement(web);
      expect(path.now?.decision?.clusters.sort()).toEqual(clusters);
      expect(path.now?.clusters.every((c) => c.sync === 'applied' && c.status !== undefined)).toBe(true);
      expect(path.waiting).toEqual([]);
    }, 300_000);

    it('a copy failing on one cluster is waited for, with the error DynamoDB records', async () => {
      const [failing, ...others] = clusters;
      let states: Record<string, string> = {};
      let items: Item[] = [];
      await waitFor(
        `settings failed on ${failing} and applied elsewhere`,
        async () => {
          items = await itemsOf(settings);
          states = Object.fromEntries(bySk(items, 'SYNC#').map((i) => [i.cluster, i.state]));
          return states[failing!] === 'failed' && others.every((c) => states[c] === 'applied') ? true : undefined;
        },
        LIVENESS,
      ).catch(async (err: Error) => {
        const source = await kubectlGetJson(stack.kcpKubeconfig, ['configmap', 'settings', '-n', 'traced']);
        const trace = await runTmc(['trace', 'configmap/settings', '-n', 'traced', '--state-dir', stack.paths.root]);
        throw new Error(
          `${err.message}; sync states ${JSON.stringify(states)}; decision ${JSON.stringify(bySk(items, 'DECISION'))}; kcp ${JSON.stringify(source?.metadata)}; trace ${trace.stdout} ${trace.stderr}`,
        );
      });
      const path = await expectAgreement(settings);
      expect(path.waiting).toEqual([`applied:${failing}`]);
      expect(path.now?.clusters.find((c) => c.cluster === failing)?.error).toBeDefined();
    }, 300_000);

    it('deleted everywhere: nothing waited for', async () => {
      await waitFor(
        'gone deleted from every cluster',
        async () =>
          JSON.stringify(await syncStates(gone)) === JSON.stringify(everywhere('deleted')) ? true : undefined,
        LIVENESS,
      );
      const path = await expectAgreement(gone);
      expect(path.now?.decision).toMatchObject({ reason: 'Deleted', clusters: [] });
      expect(path.waiting).toEqual([]);
    }, 300_000);

    it('a delete held by one cluster is waited for, never called finished', async () => {
      const refusing = clusters[2]!;
      await waitFor(
        `held removed everywhere but ${refusing}`,
        async () => {
          const states = await syncStates(held);
          return clusters.every((c) => (c === refusing ? states[c] === 'failed' : states[c] === 'deleted'))
            ? true
            : undefined;
        },
        LIVENESS,
      );
      const path = await expectAgreement(held);
      expect(path.now?.decision).toMatchObject({ reason: 'Deleted', clusters: [] });
      expect(path.waiting).toEqual([`applied:${refusing}`]);
    }, 300_000);

    it('placed nowhere (no Placement selects its namespace): says why, waits for nothing', async () => {
      const path = await expectAgreement(lonely);
      expect(path.now?.decision).toMatchObject({ scheduled: false, clusters: [] });
      expect(path.now?.clusters).toEqual([]);
      expect(path.waiting).toEqual([]);
      expect(path.steps.find((s) => s.step === 'placed')?.detail).toContain('no sync work sent');
      // nginx, un-placed by the new Placement under another change's trace, agrees too.
      await expectAgreement(nginx);
    }, 300_000);
  });
});
