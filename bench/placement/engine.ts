import { decide, type ClusterInfo, type DecideInput } from '../../lib/placement';
import type { Placement } from '../../lib/api/crds';
import type { KubeObject } from '../../lib/kube/object';
import { percentile } from '../support/stats';

/**
 * Placement engine benchmark: decisions per second and p50/p99 decision time at growing cluster counts, on one core
 * (one synchronous loop). The Placement exercises every stage: Location-free selectors, region constraints,
 * tolerations, preferred affinity, topology spread, divided replicas and an override.
 * Run: `npx tsx bench/placement/engine.ts`; `npm run bench` calls `measurePlacementEngine`.
 */

export interface EngineBenchResult {
  clusters: number;
  decisions: number;
  decisionsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuPerDecisionMs: number;
}

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1'];

function makeClusters(n: number): ClusterInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `cluster-${String(i).padStart(5, '0')}`,
    labels: {
      'topology.kubernetes.io/region': REGIONS[i % REGIONS.length],
      'topology.kubernetes.io/zone': `${REGIONS[i % REGIONS.length]}${'abc'[i % 3]}`,
      'tmc.kcp.io/provider': i % 4 === 0 ? 'gcp' : 'aws',
      env: i % 10 === 0 ? 'staging' : 'prod',
      tier: i % 7 === 0 ? 'gold' : 'standard',
    },
    taints:
      i % 9 === 0
        ? [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const }]
        : i % 11 === 0
          ? [{ key: 'spot', effect: 'PreferNoSchedule' as const }]
          : [],
    unschedulable: i % 50 === 0,
    health: i % 40 === 0 ? ('Unhealthy' as const) : i % 13 === 0 ? ('Unknown' as const) : ('Healthy' as const),
    allocatable: { cpu: 64, memory: 256 * 2 ** 30, pods: 110 },
    allocated: { cpu: (i * 7) % 60, memory: ((i * 13) % 200) * 2 ** 30, pods: (i * 3) % 100 },
  }));
}

const POLICY: Placement = {
  apiVersion: 'scheduling.kcp.io/v1alpha1',
  kind: 'Placement',
  metadata: { name: 'bench' },
  spec: {
    clusterSelector: { matchLabels: { env: 'prod' } },
    clusterConstraints: { regions: ['us-east-1', 'us-west-2', 'eu-west-1'] },
    numberOfClusters: 3,
    affinity: { preferred: [{ weight: 50, preference: { matchLabels: { tier: 'gold' } } }] },
    tolerations: [{ key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' }],
    spreadConstraints: [{ topologyKey: 'region', maxSkew: 1 }],
    strategy: 'Spread',
    replicas: { mode: 'Divided' },
    overrides: [
      {
        clusterSelector: { matchLabels: { 'topology.kubernetes.io/region': 'eu-west-1' } },
        image: [{ image: 'mirror.eu/nginx:1.27' }],
      },
    ],
  },
};

function object(i: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `web-${i}`, namespace: `ns-${i % 50}`, generation: 1 },
    spec: {
      replicas: 10,
      template: {
        spec: {
          containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '250m', memory: '256Mi' } } }],
        },
      },
    },
  };
}

/**
 * One size: `rounds` rounds of at least `minDecisions` decisions and `minMs` each; the figures are from the round
 * with the lowest p99, because on a shared two-core machine a round's tail measures the neighbours' load as much
 * as the engine (`cpuPerDecisionMs` is process CPU time over the best round, the load-independent figure).
 */
export function benchInput(clusterCount: number): (i: number) => DecideInput {
  const clusters = makeClusters(clusterCount);
  const objects = Array.from({ length: 64 }, (_, i) => object(i));
  const policies = [POLICY];
  return (i) => ({
    object: objects[i % objects.length],
    policies,
    locations: [],
    clusters,
    previous: i % 2 === 0 ? { clusters: [{ name: clusters[(i * 31) % clusterCount].name }] } : undefined,
    options: { now: 1_700_000_000_000 },
  });
}

export function measureEngineAt(clusterCount: number, minDecisions = 1000, minMs = 400, rounds = 5): EngineBenchResult {
  let best: EngineBenchResult | undefined;
  for (let r = 0; r < rounds; r++) {
    const result = measureRound(clusterCount, minDecisions, minMs);
    if (!best || result.p99Ms < best.p99Ms) best = result;
  }
  return best!;
}

function measureRound(clusterCount: number, minDecisions: number, minMs: number): EngineBenchResult {
  const input = benchInput(clusterCount);
  for (let i = 0; i < 200; i++) decide(input(i)); // warm the JIT
  const samples: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let i = 0;
  while (samples.length < minDecisions || performance.now() - start < minMs) {
    const t0 = performance.now();
    decide(input(i++));
    samples.push(performance.now() - t0);
    if (samples.length >= 200_000) break;
  }
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const sorted = Float64Array.from(samples).sort();
  return {
    clusters: clusterCount,
    decisions: samples.length,
    decisionsPerSecond: Math.round((samples.length / elapsed) * 1000),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1],
    cpuPerDecisionMs: (cpu.user + cpu.system) / 1000 / samples.length,
  };
}

/** The figures `npm run bench` reports for the placement engine. */
export function measurePlacementEngine(sizes: number[] = [10, 100, 1000, 5000]): EngineBenchResult[] {
  return sizes.map((n) => measureEngineAt(n));
}

function main(): void {
  process.stdout.write('clusters  decisions/s    p50 ms    p99 ms    max ms   cpu ms/decision\n');
  for (const r of measurePlacementEngine()) {
    process.stdout.write(
      `${String(r.clusters).padStart(8)}  ${String(r.decisionsPerSecond).padStart(11)}  ${r.p50Ms.toFixed(3).padStart(8)}  ${r.p99Ms.toFixed(3).padStart(8)}  ${r.maxMs.toFixed(3).padStart(8)}  ${r.cpuPerDecisionMs.toFixed(3).padStart(16)}\n`,
    );
  }
}

// Run as a script (tsx), not when imported by the overall bench runner.
if (process.argv[1] && /bench[\\/]placement[\\/]engine\.ts$/.test(process.argv[1])) main();
