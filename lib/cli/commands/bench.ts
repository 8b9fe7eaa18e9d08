import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import type { BenchOptions } from '../../../bench/run';
import {
  DEFAULT_LATENCY_PHASE,
  DEFAULT_SIZES,
  LATENCY_SYNC_BUDGET_PER_SECOND,
  QUICK_LATENCY_PHASE,
  QUICK_SIZES,
  type EndToEndSize,
} from '../../../bench/sizes';
import { findProjectRoot } from '../../local/paths';
import { parseSeconds } from './options';

/** `--sizes 10000x3,1000x10`: objects × clusters per end-to-end run. */
export function parseSizes(value: string): EndToEndSize[] {
  return value.split(',').map((part) => {
    const match = /^(\d+)x(\d+)$/.exec(part.trim());
    if (!match || Number(match[1]) < 1 || Number(match[2]) < 1)
      throw new InvalidArgumentError(`must be <objects>x<clusters>[,…], e.g. 10000x3; got ${part}`);
    return { objects: Number(match[1]), clusters: Number(match[2]) };
  });
}

function parseRate(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('must be a positive number of writes per second, e.g. 5');
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
}

const PARTS = ['e2e', 'floor', 'placement', 'cold-start'] as const;
type Part = (typeof PARTS)[number];

function parseSkip(value: string, previous: Part[] = []): Part[] {
  const parts = value.split(',').map((p) => p.trim());
  for (const p of parts)
    if (!(PARTS as readonly string[]).includes(p)) throw new InvalidArgumentError(`must be one of ${PARTS.join(', ')}`);
  return [...previous, ...(parts as Part[])];
}

interface BenchFlags {
  quick?: boolean;
  sizes?: EndToEndSize[];
  latencyMs: number;
  readyDelayMs: number;
  concurrency: number;
  phaseTimeout: number;
  latencyObjects?: number;
  latencyRate?: number;
  skip: Part[];
  churnMinutes: number;
  eventTtl?: number;
  pull?: boolean;
  out: string;
  write: boolean;
  cost?: boolean;
  results?: string;
}

const CdkJsonSchema = z.object({ context: z.record(z.string(), z.unknown()).default({}) });

/** `tmc bench --cost`: the idle month of the configured stack, priced item by item (docs/deploy.md). */
async function printIdleCost(projectRoot: string, flags: BenchFlags): Promise<void> {
  // Loaded here: synthesizing pulls in aws-cdk-lib, which other commands do not need.
  const { deployedIdleMonth, measuredRuns } = await import('../../../bench/cost/idle');
  const { formatIdleMonth } = await import('../../../bench/cost/model');
  const { context } = CdkJsonSchema.parse(JSON.parse(readFileSync(resolve(projectRoot, 'cdk.json'), 'utf8')));
  const runs = measuredRuns(
    resolve(projectRoot, flags.out),
    flags.results === undefined ? undefined : resolve(flags.results),
  );
  process.stdout.write(
    `Schedule runs measured in ${runs.file} (${runs.objects} objects × ${runs.clusters} clusters)\n`,
  );
  process.stdout.write(`${formatIdleMonth(deployedIdleMonth(projectRoot, context, runs))}\n`);
}

/** `tmc bench` (`npm run bench`); registered by lib/cli/commands/index.ts. See docs/bench.md. */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(
      'Benchmarks on the local stack: throughput, latency, API efficiency, placement engine, cold start and cost (docs/bench.md)',
    )
    .option(
      '--quick',
      'a small size (20 objects × 3 clusters, two placement sizes) that keeps the harness working; asserts nothing about time',
    )
    .option(
      '--sizes <NxM,...>',
      `end-to-end runs, objects x clusters (default ${DEFAULT_SIZES.map((s) => `${s.objects}x${s.clusters}`).join(',')})`,
      parseSizes,
    )
    .option('--latency-ms <ms>', 'simulator latency added to every API request', parseCount, 5)
    .option('--ready-delay-ms <ms>', 'simulated time for a Deployment to become ready on a cluster', parseCount, 0)
    .option('--concurrency <n>', 'kcp writes in flight', parseCount, 32)
    .option('--phase-timeout <s>', 'seconds a phase may take before it is reported as not converged', parseCount, 600)
    .option(
      '--latency-objects <n>',
      `Deployments (and as many ConfigMaps) the paced latency phase creates; 0 skips it (default: about 20 s of writes at the rate, ${QUICK_LATENCY_PHASE.objects} to ${DEFAULT_LATENCY_PHASE.objects}; --quick ${QUICK_LATENCY_PHASE.objects})`,
      parseCount,
    )
    .option(
      '--latency-rate <writes/s>',
      `kcp writes per second in the paced latency phase, one at a time (default per size: ${LATENCY_SYNC_BUDGET_PER_SECOND} object·cluster syncs/s, at most ${DEFAULT_LATENCY_PHASE.rate} writes/s)`,
      parseRate,
    )
    .option(
      '--churn-minutes <m>',
      'a churn phase of this many minutes per size after the others (creates, updates, deletes at 4/s around ~50 live pairs; memory, state dir and periodic jobs sampled every 30 s, growth per minute printed); 0 skips it',
      parseCount,
      0,
    )
    .option(
      '--event-ttl <seconds>',
      "simulated kcp and clusters delete an Event this long after its last write (kube's --event-ttl; default 3600)",
      parseSeconds,
    )
    .option(
      '--pull',
      'run each size in pull mode too (every cluster synced by an in-process tmc syncer), printed beside push mode',
    )
    .option('--skip <parts>', `skip parts: ${PARTS.join(', ')} (repeatable, comma-separated)`, parseSkip, [])
    .option(
      '--cost',
      'print only the idle month of the stack `cdk deploy` builds (cdk.json context), from the schedule runs of the newest bench result, and exit',
    )
    .option('--results <file>', 'with --cost: the bench result whose schedule runs to use')
    .option('--out <dir>', 'where the JSON results go', 'bench/results')
    .option('--no-write', 'print only; write no JSON')
    .action(async (flags: BenchFlags) => {
      const projectRoot = findProjectRoot();
      if (flags.cost) {
        await printIdleCost(projectRoot, flags);
        return;
      }
      const options: BenchOptions = {
        mode: flags.quick ? 'quick' : flags.sizes ? 'custom' : 'default',
        projectRoot,
        sizes: flags.sizes ?? (flags.quick ? QUICK_SIZES : DEFAULT_SIZES),
        latencyMs: flags.latencyMs,
        readyDelayMs: flags.readyDelayMs,
        concurrency: Math.max(1, flags.concurrency),
        phaseTimeoutMs: flags.phaseTimeout * 1000,
        latencyObjects: flags.latencyObjects,
        latencyRate: flags.latencyRate,
        placementSizes: flags.quick ? [10, 100] : [10, 100, 1000, 5000],
        coldStartRuns: flags.quick ? 1 : 3,
        skip: new Set(flags.skip),
        churnMinutes: flags.churnMinutes,
        eventTtlSeconds: flags.eventTtl,
        pull: flags.pull === true,
        outDir: flags.write ? resolve(projectRoot, flags.out) : undefined,
        progress: (line) => process.stderr.write(`${line}\n`),
      };
      // Loaded here: the harness pulls in the whole local stack and esbuild, which other commands do not need.
      const { runBench } = await import('../../../bench/run');
      await runBench(options);
    });
}
