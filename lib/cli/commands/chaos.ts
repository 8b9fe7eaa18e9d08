import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { FAULT_KINDS, type FaultKind, parseFaultKinds } from '../../../bench/chaos/fault-kinds';
import { findProjectRoot } from '../../local/paths';
import { parseSeconds } from './options';

function parseWhole(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
}

function parseFaults(value: string): FaultKind[] {
  const kinds = parseFaultKinds(value);
  if (kinds === undefined)
    throw new InvalidArgumentError(`must be none or a comma-separated list of ${FAULT_KINDS.join(', ')}`);
  return kinds;
}

interface ChaosFlags {
  seed?: number;
  duration: number;
  objects: number;
  faults: FaultKind[];
  rate: number;
  convergeTimeout: number;
  statusGrace: number;
  evictAfter: number;
  pace: number;
  logLevel: string;
  out: string;
  write: boolean;
}

/** `tmc chaos` (`npm run chaos`); registered by lib/cli/commands/index.ts. See docs/recovery.md "Chaos suite". */
export function registerChaosCommand(program: Command): void {
  program
    .command('chaos')
    .description(
      'Seeded chaos suite: tmc in a process of its own under faults and a steady workload, with invariants checked (docs/recovery.md)',
    )
    .option('--seed <n>', 'fixes the workload and the fault schedule (default: random, printed)', parseWhole)
    .option('--duration <s>', 'seconds of faults while the workload writes', parseSeconds, 120)
    .option('--objects <n>', 'about how many kcp objects the workload starts with', parseWhole, 60)
    .addOption(
      new Option(
        '--faults <kinds>',
        `fault kinds to draw from, comma-separated, or none (a fault-free churn run): ${FAULT_KINDS.join(', ')}`,
      )
        .argParser(parseFaults)
        .default([...FAULT_KINDS], 'all'),
    )
    .option('--rate <writes/s>', 'workload writes per second', parseSeconds, 3)
    .option(
      '--converge-timeout <s>',
      'liveness limit: how long violations may stay unchanged while tmc is still working (at most 4 times this in all)',
      parseSeconds,
      180,
    )
    .option('--status-grace <s>', 'how long kcp may show a Deployment Available with a copy missing', parseSeconds, 45)
    .option('--evict-after <s>', "SyncTargets' evictAfter", parseSeconds, 10)
    .option('--pace <factor>', "scales the faults' durations and the gaps between them", parseSeconds, 1)
    .option('--log-level <level>', "the functions' log level (their log stays in the run's directory)", 'INFO')
    .option('--out <dir>', 'where the JSON result goes', 'bench/results')
    .option('--no-write', 'print only; write no JSON')
    .action(async (flags: ChaosFlags) => {
      const projectRoot = findProjectRoot();
      const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
      // Loaded here: the suite pulls in the local stack, which other commands do not need.
      const { formatChaosResult, runChaos } = await import('../../../bench/chaos/run');
      const result = await runChaos({
        projectRoot,
        seed,
        durationMs: flags.duration * 1000,
        objects: Math.max(1, flags.objects),
        faults: flags.faults,
        rate: flags.rate,
        convergeTimeoutMs: flags.convergeTimeout * 1000,
        statusGraceMs: flags.statusGrace * 1000,
        evictAfterSeconds: flags.evictAfter,
        pace: flags.pace,
        logLevel: flags.logLevel,
        outDir: flags.write ? resolve(projectRoot, flags.out) : undefined,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${formatChaosResult(result)}\n`);
      if (result.violations.length > 0 || result.convergeMs === undefined) process.exitCode = 1;
    });
}
