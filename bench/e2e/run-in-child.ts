import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { WORKER_YOUNG_GENERATION_MB } from '../../lib/local/young-generation';
import type { EndToEndOptions, EndToEndResult } from './scenario';

const Outcome = z.discriminatedUnion('ok', [
  // The result is the child's own EndToEndResult, written by the same code: its shape is checked by the bench tests.
  z.object({
    ok: z.literal(true),
    result: z.custom<EndToEndResult>((value) => typeof value === 'object' && value !== null),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

/** `--max-semi-space-size` for the child's main thread: a third of the young generation the stack's threads get. */
function mainThreadHeapFlags(): string[] {
  const mb = Number(process.env.TMC_BENCH_YOUNG_GENERATION_MB ?? WORKER_YOUNG_GENERATION_MB);
  return mb > 0 ? [`--max-semi-space-size=${Math.round(mb / 3)}`] : [];
}

/**
 * `TMC_BENCH_CPU_PROFILE_DIR`: V8 CPU profiles of the child's every thread (`--cpu-prof`, which Node refuses in
 * NODE_OPTIONS), one file per thread, read with bench/support/cpu-profile-summary.ts.
 */
function cpuProfileFlags(): string[] {
  const dir = process.env.TMC_BENCH_CPU_PROFILE_DIR;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/**
 * Runs one end-to-end size in a fresh `node` (bench/e2e/child.ts, through tsx as bin/tmc.mjs runs the sources),
 * forwarding its progress lines, and returns its result or throws its error. The child's own output (the functions' and
 * the stack's logs, at POWERTOOLS_LOG_LEVEL) goes to a file in the temporary directory, named in the progress, kept
 * after the run for whoever has to explain a figure.
 */
export async function runEndToEndInChild(projectRoot: string, options: EndToEndOptions): Promise<EndToEndResult> {
  const { progress, ...sizeOptions } = options;
  const dir = mkdtempSync(join(tmpdir(), 'tmc-bench-size-'));
  const outcomePath = join(dir, 'outcome.json');
  const logPath = join(
    tmpdir(),
    `tmc-bench-${options.objects}x${options.clusters}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`,
  );
  const logFd = openSync(logPath, 'w');
  progress?.(`  logs: ${logPath}`);
  try {
    const child = spawn(
      process.execPath,
      [
        // The main thread's young generation as the worker threads' (lib/local/young-generation.ts).
        ...mainThreadHeapFlags(),
        ...cpuProfileFlags(),
        // Every invocation's requests in rounds, in this process and (inherited) its worker threads: the cost model's.
        '--require',
        join(projectRoot, 'bench', 'support', 'invocation-io-preload.cjs'),
        '--import',
        'tsx',
        join(projectRoot, 'bench', 'e2e', 'child.ts'),
        outcomePath,
        JSON.stringify(sizeOptions),
      ],
      {
        cwd: projectRoot,
        env: process.env,
        stdio: ['ignore', logFd, 'pipe'],
      },
    );
    const { stderr } = child;
    if (!stderr) throw new Error('The benchmark process was started without a stderr pipe');
    createInterface({ input: stderr }).on('line', (line) => progress?.(line));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (exitCode) => resolve(exitCode));
    });
    let text: string;
    try {
      text = readFileSync(outcomePath, 'utf8');
    } catch {
      throw new Error(
        `The benchmark process for ${options.objects} × ${options.clusters} exited with code ${code} before writing a result`,
      );
    }
    const outcome = Outcome.parse(JSON.parse(text));
    if (!outcome.ok) throw new Error(outcome.error);
    return outcome.result;
  } finally {
    closeSync(logFd);
    rmSync(dir, { recursive: true, force: true });
  }
}
