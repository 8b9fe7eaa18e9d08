import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { formatResults } from '../../bench/report';
import type { BenchResults } from '../../bench/bench-results';
import { runBench } from '../../bench/run';
import { QUICK_LATENCY_PHASE, QUICK_SIZES } from '../../bench/sizes';

/**
 * `tmc bench --quick` end to end on the real local stack (kcp writes over HTTP → webhook → SQS → placement →
 * sync-apply → simulated clusters → status back), with the JSON it writes checked for shape and the efficiency counts
 * checked against the floors tmc promises. Nothing here asserts a time: the machine is shared.
 */

const Latency = z.object({
  count: z.number(),
  p50Ms: z.number().nullable(),
  p95Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
});
const RequestsPerSync = z.object({
  dynamodb: z.record(z.string(), z.number()),
  sqs: z.record(z.string(), z.number()),
  kcpReads: z.number(),
  kcpWrites: z.number(),
  clusterReads: z.number(),
  clusterWrites: z.number(),
  total: z.number(),
  sqsByQueue: z.record(z.string(), z.number()).optional(),
  sqsEntriesPerRequest: z.record(z.string(), z.number()).optional(),
});
const Phase = z.object({
  phase: z.enum(['create', 'update', 'resync-placement', 'resync-sync', 'latency']),
  objects: z.number().int().positive(),
  clusters: z.number().int().positive(),
  converged: z.boolean(),
  convergeMs: z.number().nonnegative(),
  syncsPerSecond: z.number().nonnegative(),
  writeToApplied: Latency,
  writeToStatus: Latency,
  kube: z.object({
    clusterWritesPerObjectCluster: z.number(),
    clusterReadsPerObjectCluster: z.number(),
    kcpWritesPerObject: z.number(),
    kcpEventWritesPerObject: z.number(),
    kcpEventRequests: z.record(z.string(), z.number()),
    clusterRequests: z.record(z.string(), z.number()),
    kcpRequests: z.record(z.string(), z.number()),
    kcpNotFound: z.number().int().nonnegative(),
    kcpConflicts: z.number().int().nonnegative(),
  }),
  dynamodb: z.object({
    requests: z.record(z.string(), z.number()),
    byItem: z.record(z.string(), z.number()),
    readsPerObject: z.number(),
    writesPerObject: z.number(),
  }),
  sqs: z.object({
    requests: z.record(z.string(), z.number()),
    enqueued: z.record(z.string(), z.number()),
    messagesPerObject: z.number(),
  }),
  lambda: z.record(z.string(), z.object({ invocations: z.number(), durationSeconds: z.number() })),
  placementOutcomes: z.record(z.string(), z.number()),
  safetyNet: z.object({ total: z.number().int().nonnegative(), byRepair: z.record(z.string(), z.number()) }),
  statusUpdates: z.record(z.string(), z.number().int().nonnegative()),
  requestsPerSync: RequestsPerSync,
  // Per-thread CPU where /proc exists (Linux, as CI).
  cpu: z
    .object({
      perSyncMs: z.record(z.string(), z.number().nonnegative()),
      totalPerSyncMs: z.number().positive(),
      tmcPerSyncMs: z.number().positive(),
    })
    .optional(),
});
const Results = z.object({
  schema: z.literal('tmc-bench/v1'),
  mode: z.literal('quick'),
  machine: z.object({ cpus: z.number(), node: z.string(), loadAverageStart: z.array(z.number()) }),
  endToEnd: z
    .array(
      z.object({
        options: z.object({ objects: z.number(), clusters: z.number() }),
        phases: z.array(Phase).length(5),
        schedules: z.record(z.string(), z.object({ ok: z.boolean() })),
        floor: z.object({
          objects: z.number().int().positive(),
          clusters: z.number().int().positive(),
          requestsPerSync: RequestsPerSync,
        }),
      }),
    )
    .length(1),
  placement: z
    .array(
      z.object({ clusters: z.number(), decisionsPerSecond: z.number().positive(), p99Ms: z.number().nonnegative() }),
    )
    .length(2),
  coldStart: z
    .array(z.object({ name: z.string(), bytes: z.number().positive(), initMs: z.number().positive() }))
    .min(1),
  costs: z.object({
    perMillionChanges: z.array(z.object({ cost: z.object({ total: z.number().nonnegative() }) })),
    idleMonth: z.object({ total: z.number().positive() }),
  }),
  targets: z.array(z.object({ target: z.string(), measured: z.string() })).min(1),
});

/**
 * The warnings of the safety nets' repairs in the logs the bench's progress names (`  logs: <file>`), and of the
 * simulated servers' webhook calls that failed open (what a repair then brought back was never sent).
 */
function repairWarnings(progress: string[]): string[] {
  const files = progress.flatMap((line) => /^\s*logs: (.+)$/.exec(line)?.[1] ?? []);
  return files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /backstop repaired|resync|drift|failing open/i.test(line))
      .slice(0, 20),
  );
}

describe('tmc bench --quick', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'tmc-bench-test-'));
  let results: BenchResults;
  let written: z.infer<typeof Results>;
  let progress: string[] = [];
  const phase = (name: string): BenchResults['endToEnd'][number]['phases'][number] =>
    results.endToEnd[0].phases.find((p) => p.phase === name)!;

  beforeAll(async () => {
    const lines: string[] = (progress = []);
    results = await runBench({
      mode: 'quick',
      projectRoot: process.cwd(),
      sizes: QUICK_SIZES,
      latencyMs: 5,
      readyDelayMs: 0,
      concurrency: 8,
      phaseTimeoutMs: 240_000,
      latencyObjects: QUICK_LATENCY_PHASE.objects,
      latencyRate: QUICK_LATENCY_PHASE.rate,
      placementSizes: [10, 100],
      coldStartRuns: 1,
      skip: new Set(),
      outDir,
      print: false,
      progress: (line) => lines.push(line),
    });
    const files = readdirSync(outDir).filter((f) => f.endsWith('-quick.json'));
    expect(files).toHaveLength(1);
    written = Results.parse(JSON.parse(readFileSync(join(outDir, files[0]), 'utf8')));
  }, 600_000);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('writes well-formed results for every part, and the tables print', () => {
    expect(formatResults(results)).toMatch(/resync-sync .*\n/);
    expect(written.endToEnd[0].options).toEqual({ objects: QUICK_SIZES[0].objects, clusters: QUICK_SIZES[0].clusters });
    expect(written.coldStart.map((c) => c.name)).toEqual(
      expect.arrayContaining(['ingress', 'placement', 'sync-apply', 'status-up']),
    );
    expect(Object.values(written.endToEnd[0].schedules).every((s) => s.ok)).toBe(true);
  });

  it('converges create and update on every cluster, with a latency sample per object·cluster', () => {
    const { objects, clusters } = QUICK_SIZES[0];
    for (const name of ['create', 'update']) expect(phase(name).converged).toBe(true);
    expect(phase('create').writeToApplied.count).toBe(2 * objects * clusters); // a Deployment and its ConfigMap
    expect(phase('create').writeToStatus.count).toBe(objects);
    expect(phase('update').writeToApplied.count).toBe(objects * clusters);
  });

  it('runs the paced latency phase: new objects one write at a time, each applied everywhere, read by the latency target', () => {
    const { clusters } = QUICK_SIZES[0];
    const latency = phase('latency');
    expect(latency.converged).toBe(true);
    expect(latency.objects).toBe(2 * QUICK_LATENCY_PHASE.objects);
    expect(latency.writeToApplied.count).toBe(2 * QUICK_LATENCY_PHASE.objects * clusters);
    expect(latency.writeToStatus.count).toBe(QUICK_LATENCY_PHASE.objects);
    expect(latency.kube.clusterWritesPerObjectCluster).toBe(1);
    expect(results.targets.find((t) => t.target.startsWith('p99 kcp write → applied'))?.target).toMatch(
      /paced latency phase/,
    );
    expect(formatResults(results)).toMatch(/\nlatency .*\n/);
  });

  it('counts Events apart from the writes per change: Placed and Applied on create, none in kcpRequests', () => {
    const create = phase('create');
    expect(create.kube.kcpEventWritesPerObject).toBeGreaterThan(0);
    expect(Object.keys(create.kube.kcpEventRequests).length).toBeGreaterThan(0);
    expect(formatResults(results)).toContain('events w/obj');
  });

  it('carries every object by the primary path: in this fault-free run no safety net repaired anything', () => {
    // The recovery sweep and the status backstop run on their timers during the phases (scenario.ts); a repair by
    // either means a message the primary path should have carried was lost or never sent.
    const repaired = results.endToEnd[0].phases.map((p) => ({ phase: p.phase, ...p.safetyNet }));
    // On a repair, the run's warnings that name it (which object, which cluster, what was stored) go in the failure.
    const evidence = repaired.some((p) => p.total > 0) ? repairWarnings(progress) : [];
    expect({ repaired, evidence }).toEqual({
      repaired: repaired.map((p) => ({ phase: p.phase, total: 0, byRepair: {} })),
      evidence: [],
    });
    expect(formatResults(results)).toContain('objects that needed a safety net');
  });

  it("counts status-up's outcomes: every Deployment·cluster report of the create phase ends in one", () => {
    const { objects, clusters } = QUICK_SIZES[0];
    const outcomes = phase('create').statusUpdates;
    const counted = ['written', 'unchanged', 'held', 'stale'].reduce((n, result) => n + (outcomes[result] ?? 0), 0);
    // Re-runs of held refreshes (status-up's and sync-apply's) end in an outcome too: at least one per report.
    expect(counted).toBeGreaterThanOrEqual(objects * clusters);
  });

  it('writes each object once per cluster on first sync and on update', () => {
    expect(phase('create').kube.clusterWritesPerObjectCluster).toBe(1);
    expect(phase('update').kube.clusterWritesPerObjectCluster).toBe(1);
    // The update changed Deployments only: the ConfigMaps they read were not rewritten.
    expect(phase('update').kube.clusterRequests.apply).toBe(QUICK_SIZES[0].objects * QUICK_SIZES[0].clusters);
  });

  it('runs the floor: one cluster write and one state write per object·cluster, one decision per object, one status per Deployment', () => {
    const { objects, clusters } = QUICK_SIZES[0];
    const floor = written.endToEnd[0].floor.requestsPerSync;
    expect(floor.clusterWrites).toBe(1);
    expect(floor.clusterReads).toBe(0);
    // One status write per Deployment: objects / (2 × objects × clusters) per sync.
    expect(floor.kcpWrites).toBeCloseTo(1 / (2 * clusters), 3);
    expect(floor.dynamodb.PutItem).toBeCloseTo(1 + 1 / clusters, 3);
    expect(written.endToEnd[0].floor.objects).toBe(2 * objects);
    // tmc does at least the floor's cluster writes and state writes per sync.
    expect(phase('create').requestsPerSync.clusterWrites).toBeGreaterThanOrEqual(floor.clusterWrites);
    expect(formatResults(results)).toMatch(/tmc ÷ floor/);
  });

  it('splits SQS requests by queue, ingress sending one message a request, beside the floor of the design', () => {
    const { clusters } = QUICK_SIZES[0];
    const create = phase('create').requestsPerSync;
    // One admission per object, one SendMessageBatch each: 1 / clusters per object·cluster sync.
    expect(create.sqsByQueue?.['SendMessageBatch tmc-placement']).toBeCloseTo(1 / clusters, 2);
    expect(create.sqsEntriesPerRequest?.['SendMessageBatch tmc-placement']).toBe(1);
    // The queues' split adds up to the split by API.
    const total = (r: Record<string, number> | undefined): number => Object.values(r ?? {}).reduce((a, b) => a + b, 0);
    expect(total(create.sqsByQueue)).toBeCloseTo(total(create.sqs), 1);
    const target = results.targets.find((t) => t.target.startsWith('SQS requests per object·cluster sync'));
    expect(target?.measured).toMatch(/^\d+\.\d\d \(\d+\.\d\d; \d+\.\d\d\) at /);
    expect(formatResults(results)).toMatch(/SQS requests per object·cluster sync by queue/);
  });

  it('writes nothing anywhere on a no-op resync', () => {
    for (const name of ['resync-placement', 'resync-sync']) {
      const p = phase(name);
      expect(p.kube.clusterWritesPerObjectCluster).toBe(0);
      expect(p.kube.kcpWritesPerObject).toBe(0);
      expect(p.kube.kcpEventWritesPerObject).toBe(0);
      // No object state is written (circuit and health bookkeeping, CIRCUIT, HEALTH and COMPONENT items, may tick, and so may
      // the recovery sweep's page CURSOR when its 60 s timer fires inside the phase: the emulators cannot tell the
      // schedules' requests apart). BatchGetItem is a read: placement and sync-apply read what a batch needs with one.
      const objectWrites = Object.entries(p.dynamodb.byItem).filter(
        ([k]) =>
          /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems)/.test(k) &&
          !/ (HEALTH|COMPONENT|CIRCUIT|CURSOR)$/.test(k),
      );
      expect(objectWrites).toEqual([]);
      expect(p.sqs.messagesPerObject).toBe(0);
    }
    // The sync-level resync did reach sync-apply (one invocation per batch at least): the zero is the hash check's.
    expect(phase('resync-sync').lambda['sync-apply'].invocations).toBeGreaterThan(0);
  });
});
