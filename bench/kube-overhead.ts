import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { KubeClusterClient } from '../lib/adapters/kube/kube-cluster-client';
import { loadKubeconfig } from '../lib/adapters/kube/kubeconfig';
import { findProjectRoot } from '../lib/local/paths';
import { startSimServer } from '../lib/sim';
import type { KubeObject } from '../lib/ports/kube-client';

/**
 * CPU tmc's Kubernetes client (lib/adapters/kube: KubeClusterClient over KubeHttpTransport) spends per request, the
 * client side alone: the simulator runs in a child process of its own (this file with `--server`), so
 * `process.cpuUsage()` here is the client's. Variants take turns block by block against the same server:
 * - `tmc`: the client as the functions build it (a token user: its credentials read once per transport);
 * - `auth-per-request`: the same, but the user is one whose credentials can change (an auth provider no authenticator
 *   claims, so nothing is added), which makes the transport read the KubeConfig on every request, as it did for every
 *   user before: client-node's applyToHTTPSOptions, a new Agent and the TLS material each time.
 *
 * `node --import tsx bench/kube-overhead.ts [--requests 3000] [--warmup 1000]`.
 */

type KubeOperation = 'get' | 'apply' | 'patchStatus';
const OPERATIONS: readonly KubeOperation[] = ['get', 'apply', 'patchStatus'];
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' };
const TOKEN = 'bench-token';

interface Variant {
  name: string;
  user: string;
}

const VARIANTS: readonly Variant[] = [
  { name: 'tmc', user: `{ token: ${TOKEN} }` },
  { name: 'auth-per-request', user: `{ token: ${TOKEN}, auth-provider: { name: tmc-bench-none, config: {} } }` },
];

/** A Deployment of the size tmc applies (a pod template with one container, labels and annotations). */
function deploymentBody(i: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: `web-${i % 20}`,
      namespace: 'default',
      labels: { app: 'web', 'state.workload.kcp.io/abc123': 'Sync' },
      annotations: { 'kcp.io/namespace-locator': '{"workspace":"root:org","namespace":"default"}' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: { rev: String(i % 20) } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

function clientFor(variant: Variant, server: string): KubeClusterClient {
  const text = `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}" } }]
users: [{ name: u, user: ${variant.user} }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;
  const { config } = loadKubeconfig(text, { uniqueName: `bench-${variant.name}` });
  return new KubeClusterClient(`bench-${variant.name}`, config);
}

type Run = (client: KubeClusterClient, i: number) => Promise<unknown>;

const RUNS: Record<KubeOperation, Run> = {
  get: (client, i) => client.get({ ...DEPLOYMENTS, namespace: 'default', name: `web-${i % 20}` }),
  apply: (client, i) => client.apply(DEPLOYMENTS, deploymentBody(i), { force: true }),
  patchStatus: (client, i) =>
    client.patchStatus(
      { ...DEPLOYMENTS, namespace: 'default', name: `web-${i % 20}` },
      { replicas: 2, readyReplicas: i % 3, observedGeneration: 1 },
    ),
};

const BLOCK = 100;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function startServerProcess(): Promise<{ child: ChildProcess; server: string }> {
  const child = fork(join(findProjectRoot(), 'bench', 'kube-overhead.ts'), ['--server'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`The simulator's process exited with code ${String(code)} before listening`);
    }),
  ])) as unknown[];
  return { child, server: z.object({ server: z.string().url() }).parse(message).server };
}

async function serve(): Promise<void> {
  const sim = await startSimServer({ name: 'kube-overhead', mode: 'cluster', token: TOKEN });
  process.send?.({ server: sim.serverUrl() });
  createInterface({ input: process.stdin }).on('close', () => {
    void sim.stop().finally(() => process.exit(0));
  });
}

export async function measureKubeOverhead(
  requests: number,
  warmup: number,
  progress: (line: string) => void,
): Promise<Array<{ variant: string; operation: KubeOperation; cpuMicrosPerRequest: number }>> {
  const { child, server } = await startServerProcess();
  const clients = VARIANTS.map((variant) => ({ variant, client: clientFor(variant, server) }));
  try {
    // The objects the reads and status patches address.
    for (let i = 0; i < 20; i++) await RUNS.apply(clients[0]!.client, i);
    const rows: Array<{ variant: string; operation: KubeOperation; cpuMicrosPerRequest: number }> = [];
    for (const operation of OPERATIONS) {
      const run = RUNS[operation];
      for (const { client } of clients) for (let i = 0; i < warmup; i++) await run(client, i);
      const samples = clients.map(() => [] as number[]);
      for (let b = 0; b < Math.max(1, Math.round(requests / BLOCK)); b++) {
        for (const [v, { client }] of clients.entries()) {
          const cpu = process.cpuUsage();
          for (let i = b * BLOCK; i < (b + 1) * BLOCK; i++) await run(client, i);
          const used = process.cpuUsage(cpu);
          samples[v]!.push((used.user + used.system) / BLOCK);
        }
      }
      for (const [v, { variant }] of clients.entries()) {
        const cpu = Math.round(median(samples[v]!));
        rows.push({ variant: variant.name, operation, cpuMicrosPerRequest: cpu });
        progress(`  kube ${operation.padEnd(12)} ${variant.name.padEnd(18)} ${cpu} µs CPU per request`);
      }
    }
    return rows;
  } finally {
    for (const { client } of clients) client.close();
    child.stdin?.end();
    await once(child, 'exit');
  }
}

if (basename(process.argv[1] ?? '') === 'kube-overhead.ts') {
  if (process.argv.includes('--server')) {
    void serve();
  } else {
    const args = process.argv.slice(2);
    const flag = (name: string, fallback: number): number => {
      const at = args.indexOf(`--${name}`);
      return at >= 0
        ? z.coerce
            .number()
            .int()
            .nonnegative()
            .parse(args[at + 1])
        : fallback;
    };
    void measureKubeOverhead(flag('requests', 3000), flag('warmup', 1000), (line) =>
      process.stderr.write(`${line}\n`),
    ).then(
      (rows) => {
        const lines = VARIANTS.map(
          (v) =>
            `${v.name.padEnd(18)}${OPERATIONS.map((op) => String(rows.find((r) => r.variant === v.name && r.operation === op)?.cpuMicrosPerRequest ?? '-').padStart(13)).join('')}`,
        );
        process.stdout.write(
          [
            'Kubernetes client CPU per request (µs, user+system, simulator in another process)',
            `${'variant'.padEnd(18)}${OPERATIONS.map((op) => op.padStart(13)).join('')}`,
            ...lines,
            '',
          ].join('\n'),
        );
      },
      (err: unknown) => {
        process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 1;
      },
    );
  }
}
