import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { measureColdStarts, type ColdStartResult } from './cold-start';
import { THREADED_FUNCTIONS } from '../lib/local/stack';
import { deployedIdleMonth } from './cost/idle';
import { floorCost, phaseCost, scaleCost } from './cost/phase';
import { PRICES } from './cost/prices';
import type { EndToEndResult, PhaseResult } from './e2e/scenario';
import { sqsDesignFloorPerSync, sqsFullBatchFloorPerSync } from './e2e/per-sync';
import { runEndToEndInChild } from './e2e/run-in-child';
import { measurePlacementEngine, type EngineBenchResult } from './placement/engine';
import { formatResults } from './report';
import { pacedLatencyPhase, sizeLabel, type EndToEndSize } from './sizes';
import type { BenchMode, BenchResults, Target } from './bench-results';

/**
 * `npm run bench` / `tmc bench`: the end-to-end runs on the local stack, the placement engine, cold starts and the
 * cost derived from the counts. Figures go to the terminal and to `bench/results/<time>-<mode>.json`.
 */

export interface BenchOptions {
  mode: BenchMode;
  projectRoot: string;
  sizes: EndToEndSize[];
  latencyMs: number;
  readyDelayMs: number;
  concurrency: number;
  phaseTimeoutMs: number;
  /** The paced latency phase: Deployments (and as many ConfigMaps) created one write at a time; 0 skips it. Undefined: per size (bench/sizes.ts `pacedLatencyPhase`). */
  latencyObjects?: number;
  /** The paced latency phase's kcp writes per second. Undefined: per size, from a budget of syncs per second. */
  latencyRate?: number;
  /** Minutes of the churn phase per size (bench/e2e/churn.ts); 0 or absent skips it. */
  churnMinutes?: number;
  /** Seconds a simulated Event lives after its last write (kube's `--event-ttl`); undefined: the simulator's 1 h. */
  eventTtlSeconds?: number;
  /** Each size also in pull mode (every cluster synced by an in-process `tmc syncer`), printed beside push mode. */
  pull?: boolean;
  placementSizes: number[];
  coldStartRuns: number;
  skip: Set<'e2e' | 'floor' | 'placement' | 'cold-start'>;
  /** Where the JSON goes; undefined writes nothing. */
  outDir?: string;
  /** Print the tables to stdout (default true; tests turn it off). */
  print?: boolean;
  progress: (line: string) => void;
}

function gitCommit(projectRoot: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const round2 = (values: number[]): number[] => values.map((v) => Math.round(v * 100) / 100);

function targets(results: Omit<BenchResults, 'targets'>): Target[] {
  const out: Target[] = [];
  const main = results.endToEnd.find((r) => r.options.objects >= 10_000 && r.options.clusters === 3);
  const create = main?.phases.find((p) => p.phase === 'create');
  out.push({
    target: '10,000 objects × 3 clusters converge < 60 s',
    measured: create
      ? `${(create.convergeMs / 1000).toFixed(1)} s${create.converged ? '' : ' (did not converge)'}`
      : 'not run at this size',
    met: create ? create.converged && create.convergeMs < 60_000 : undefined,
  });
  // From the paced phase: the burst phases offer more than the stack's throughput, so their p99 is the time the
  // last write waited in the queues (about the converge time), not the latency the target is about.
  const paced = results.endToEnd.flatMap((r) => r.phases.filter((p) => p.phase === 'latency').map((p) => ({ r, p })));
  const worstP99 = paced.reduce((a, { p }) => Math.max(a, p.writeToApplied.p99Ms), 0);
  const rates = paced.map(({ r }) => `${r.options.latencyRate}/s at ${r.options.clusters}`).join(', ');
  out.push({
    target: `p99 kcp write → applied < 1 s (paced latency phase, writes one at a time${rates ? `: ${rates}` : ''})`,
    measured: paced.length
      ? `${worstP99.toFixed(0)} ms (worst run)${paced.every(({ p }) => p.converged) ? '' : ' (did not converge)'}`
      : 'not run',
    met: paced.length ? paced.every(({ p }) => p.converged) && worstP99 < 1000 : undefined,
  });
  const phase = (name: string): Array<{ label: string; value: number }> =>
    results.endToEnd.flatMap((r) =>
      r.phases
        .filter((p) => p.phase === name)
        .map((p) => ({
          label: sizeLabel(r.options),
          value: p.kube.clusterWritesPerObjectCluster,
        })),
    );
  for (const [name, floor] of [
    ['create', 1],
    ['update', 1],
    ['resync-placement', 0],
    ['resync-sync', 0],
  ] as const) {
    const got = phase(name);
    const worst = got.reduce((a, g) => Math.max(a, g.value), 0);
    out.push({
      target: `cluster writes per object·cluster, ${name} = ${floor}`,
      measured: got.length ? got.map((g) => `${g.value} (${g.label})`).join(', ') : 'not run',
      met: got.length ? worst <= floor : undefined,
    });
  }
  // Issue 20's request and CPU targets, read off the create phase of every size (the floor of the design beside SQS's).
  const creates = results.endToEnd.flatMap((r) =>
    r.phases.filter((p) => p.phase === 'create').map((p) => ({ label: sizeLabel(r.options), p })),
  );
  const sqsPerSync = (p: PhaseResult): number => Object.values(p.requestsPerSync.sqs).reduce((a, b) => a + b, 0);
  out.push({
    target:
      'SQS requests per object·cluster sync ≤ 0.5, create (in brackets: floor of this design; these messages all ten a request)',
    measured: creates.length
      ? creates
          .map(({ label, p }) => {
            const syncs = p.objects * p.clusters;
            const floor = sqsDesignFloorPerSync(p.sqs.enqueued, syncs).toFixed(2);
            const fullBatches = sqsFullBatchFloorPerSync(p.sqs.enqueued, syncs).toFixed(2);
            return `${sqsPerSync(p).toFixed(2)} (${floor}; ${fullBatches}) at ${label}`;
          })
          .join(', ')
      : 'not run',
    met: creates.length ? creates.every(({ p }) => sqsPerSync(p) <= 0.5) : undefined,
  });
  const withCpu = creates.filter(({ p }) => p.cpu !== undefined);
  out.push({
    target: "tmc's own CPU per object·cluster sync ≤ 2 ms, create (the functions' threads; load average in the header)",
    measured: withCpu.length
      ? withCpu.map(({ label, p }) => `${p.cpu!.tmcPerSyncMs.toFixed(1)} ms at ${label}`).join(', ')
      : 'not measured (no /proc)',
    met: withCpu.length ? withCpu.every(({ p }) => p.cpu!.tmcPerSyncMs <= 2) : undefined,
  });
  // Issue 20's cost target per million creates, at 3 clusters and at 50 (the floor run's work priced alike in brackets).
  for (const [clusters, limit] of [
    [3, 10],
    [50, 90],
  ] as const) {
    const rows = (results.costs?.perMillionChanges ?? []).filter(
      (c) => c.phase === 'create' && c.size.endsWith(`× ${clusters}`),
    );
    out.push({
      target: `cost per 1M creates at ${clusters} clusters ≤ $${limit} (Lambda modelled; floor in brackets)`,
      measured: rows.length
        ? rows
            .map((c) => `$${c.cost.total.toFixed(2)}${c.floor ? ` ($${c.floor.total.toFixed(2)})` : ''} at ${c.size}`)
            .join(', ')
        : 'not run',
      met: rows.length ? rows.every((c) => c.cost.total <= limit) : undefined,
    });
  }
  const at1000 = results.placement.find((p) => p.clusters === 1000);
  out.push({
    target: 'placement p99 < 1 ms at 1,000 clusters',
    measured: at1000 ? `${at1000.p99Ms.toFixed(3)} ms` : 'not run',
    met: at1000 ? at1000.p99Ms < 1 : undefined,
  });
  for (const c of results.coldStart) {
    out.push({
      target: `${c.name}: bundle ≤ 1 MiB, init ≤ 300 ms`,
      measured: `${(c.bytes / 1024).toFixed(0)} KiB, ${c.initMs} ms (cpu ${c.initCpuMs} ms)`,
      met: c.underOneMiB && c.initUnderBudget,
    });
  }
  return out;
}

/** Phases that create or change every object: the floor run's work (a create) is their floor; a no-op resync's is 0. */
const FLOORED_PHASES = new Set(['create', 'update', 'latency']);

function costs(projectRoot: string, endToEnd: EndToEndResult[]): BenchResults['costs'] {
  if (endToEnd.length === 0) return undefined;
  const perMillionChanges = endToEnd.flatMap((run) => {
    // The floor per object: the floor run's create, priced at its own object count (half of them Deployments).
    const floor = run.floor
      ? scaleCost(floorCost(run.floor, run.floor.objects / 2), 1e6 / run.floor.objects)
      : undefined;
    return run.phases.map((p) => ({
      size: sizeLabel(run.options),
      phase: p.phase,
      cost: scaleCost(phaseCost(p, THREADED_FUNCTIONS), 1e6 / p.objects),
      ...(floor && FLOORED_PHASES.has(p.phase) ? { floor } : {}),
    }));
  });
  // The idle month from the largest run's schedules (health-probe's cost grows with clusters), on the default stack.
  const largest = [...endToEnd].sort((a, b) => b.options.clusters - a.options.clusters)[0];
  const measured = Object.values(largest.schedules).every((s) => s.ok);
  return {
    prices: PRICES,
    perMillionChanges,
    idleMonth: measured
      ? deployedIdleMonth(
          projectRoot,
          {},
          {
            clusters: largest.options.clusters,
            perRun: largest.schedules,
            ...(largest.settledSchedules && Object.values(largest.settledSchedules).every((s) => s.ok)
              ? { settledRun: largest.settledSchedules }
              : {}),
          },
        )
      : undefined,
  };
}

/** The paced latency phase of one size: the flags' values, else derived per size (bench/sizes.ts). */
function latencyPhaseOf(options: BenchOptions, clusters: number): { latencyObjects: number; latencyRate: number } {
  const phase = pacedLatencyPhase(
    clusters,
    { objects: options.latencyObjects, rate: options.latencyRate },
    options.mode === 'quick',
  );
  return { latencyObjects: phase.objects, latencyRate: phase.rate };
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  // The functions' logs go to a file per size (bench/e2e/run-in-child.ts), not the terminal; WARN keeps what explains
  // a straggler (a webhook that failed open, a conflict retried out) at little cost.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const say = options.progress;
  const startedAt = new Date();
  const loadAverageStart = round2(loadavg());
  const endToEnd: EndToEndResult[] = [];
  const endToEndFailures: BenchResults['endToEndFailures'] = [];
  if (!options.skip.has('e2e')) {
    const runs: Array<EndToEndSize & { pull?: boolean }> = options.sizes.flatMap((size) =>
      options.pull ? [size, { ...size, pull: true }] : [size],
    );
    for (const size of runs) {
      say(`End to end ${sizeLabel(size)}`);
      try {
        endToEnd.push(
          // Each size in a fresh process (bench/e2e/child.ts says why).
          await runEndToEndInChild(options.projectRoot, {
            ...size,
            latencyMs: options.latencyMs,
            readyDelayMs: options.readyDelayMs,
            concurrency: options.concurrency,
            phaseTimeoutMs: options.phaseTimeoutMs,
            ...latencyPhaseOf(options, size.clusters),
            // The floor is the least a correct design needs, whatever the mode: measured once, with push.
            floor: !options.skip.has('floor') && !size.pull,
            churnMinutes: options.churnMinutes,
            eventTtlSeconds: options.eventTtlSeconds,
            progress: say,
          }),
        );
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        say(`  ${sizeLabel(size)} failed: ${error}`);
        endToEndFailures.push({ ...size, error });
      }
    }
  }
  let placement: EngineBenchResult[] = [];
  if (!options.skip.has('placement')) {
    say(`Placement engine at ${options.placementSizes.join(', ')} clusters`);
    placement = measurePlacementEngine(options.placementSizes);
  }
  let coldStart: ColdStartResult[] = [];
  if (!options.skip.has('cold-start')) {
    say('Cold start: bundling every function');
    coldStart = await measureColdStarts(options.projectRoot, { runs: options.coldStartRuns, progress: say });
  }
  const partial: Omit<BenchResults, 'targets'> = {
    schema: 'tmc-bench/v1',
    mode: options.mode,
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    commit: gitCommit(options.projectRoot),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadAverageStart,
      loadAverageEnd: round2(loadavg()),
      note: 'Shared with other engineers running tests and builds: a load average above the core count slows every figure that is time (not the counts)',
    },
    endToEnd,
    endToEndFailures,
    placement,
    coldStart,
    costs: costs(options.projectRoot, endToEnd),
  };
  const results: BenchResults = { ...partial, targets: targets(partial) };
  if (options.print !== false) process.stdout.write(formatResults(results));
  if (options.outDir !== undefined) {
    mkdirSync(options.outDir, { recursive: true });
    const file = join(options.outDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}-${options.mode}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    say(`Results written to ${file}`);
  }
  return results;
}
