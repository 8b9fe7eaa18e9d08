import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { z } from 'zod';
import { BUNDLE_BUDGET_BYTES, esbuildOptions, functionEntry } from '../infra/bundling';
import { FUNCTIONS, type FunctionName } from '../lib/runtime/resources';

/**
 * Cold start per function: the minified bundle exactly as the CDK stack builds it (infra/bundling.ts: esbuild, CommonJS,
 * platform node, target node22), and its init time: a fresh `node` process requires the bundle and reports how long
 * that took (module evaluation, the part of a Lambda cold start the code controls; the runtime's own start is not
 * counted). The median of `runs` processes is reported, since a shared machine's neighbours add noise.
 */

export const INIT_BUDGET_MS = 300;
/** The budget; infra/bundling.ts holds the per-function budgets the CDK build enforces. */
export const SIZE_TARGET_BYTES = 1024 * 1024;

export interface ColdStartResult {
  name: FunctionName;
  bytes: number;
  /** The CDK build's own budget for this function (infra/bundling.ts). */
  budgetBytes: number;
  underOneMiB: boolean;
  /** Median wall time of the require. */
  initMs: number;
  initRunsMs: number[];
  /** Median CPU time of the require. */
  initCpuMs: number;
  initUnderBudget: boolean;
}

const run = promisify(execFile);
const Timing = z.object({ ms: z.number(), cpuMs: z.number() });

/** Wall and CPU time of one require; CPU time is the figure a loaded machine disturbs least. */
async function timeRequire(bundle: string): Promise<z.infer<typeof Timing>> {
  const script = `const t=process.hrtime.bigint(),c=process.cpuUsage();require(${JSON.stringify(bundle)});const u=process.cpuUsage(c);process.stdout.write(JSON.stringify({ms:Number(process.hrtime.bigint()-t)/1e6,cpuMs:(u.user+u.system)/1e3}))`;
  const { stdout } = await run(process.execPath, ['-e', script], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return Timing.parse(JSON.parse(stdout));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Bundles every function that has a handler and times its init in `runs` fresh processes each. */
export async function measureColdStarts(
  projectRoot: string,
  options: { runs?: number; progress?: (line: string) => void } = {},
): Promise<ColdStartResult[]> {
  const runs = options.runs ?? 3;
  const names = (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) =>
    existsSync(functionEntry(projectRoot, name)),
  );
  const outdir = mkdtempSync(join(tmpdir(), 'tmc-bench-bundles-'));
  try {
    await build({
      ...esbuildOptions(projectRoot),
      entryPoints: Object.fromEntries(names.map((name) => [name, functionEntry(projectRoot, name)])),
      outdir,
      sourcemap: false,
      logLevel: 'error',
    });
    const results: ColdStartResult[] = [];
    for (const name of names) {
      const bundle = join(outdir, `${name}.js`);
      const initRunsMs: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = await timeRequire(bundle);
        initRunsMs.push(Math.round(t.ms * 10) / 10);
        cpu.push(Math.round(t.cpuMs * 10) / 10);
      }
      const bytes = statSync(bundle).size;
      const initMs = median(initRunsMs);
      results.push({
        name,
        bytes,
        budgetBytes: BUNDLE_BUDGET_BYTES[name],
        underOneMiB: bytes <= SIZE_TARGET_BYTES,
        initMs,
        initRunsMs,
        initCpuMs: median(cpu),
        initUnderBudget: initMs <= INIT_BUDGET_MS,
      });
      options.progress?.(`  ${name}: ${(bytes / 1024).toFixed(0)} KiB, init ${initMs} ms`);
    }
    return results;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
