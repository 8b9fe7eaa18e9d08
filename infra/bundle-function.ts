import { join } from 'node:path';
import { build } from 'esbuild';
import type { FunctionName } from '../lib/runtime/resources';
import { esbuildOptions, functionEntry } from './bundling';

/**
 * Bundles one function into `outDir/index.js` (and its source map) with infra/bundling.ts's options, plugins included:
 * the CDK asset's local bundling runs this (infra/tmc-function.ts), so the deployed bytes are the bytes
 * `npm run bundle-report` and the bundle-size test measure. `tsx infra/bundle-function.ts <function> <outDir>`.
 */
export async function bundleFunction(projectRoot: string, name: FunctionName, outDir: string): Promise<void> {
  await build({
    ...esbuildOptions(projectRoot),
    entryPoints: [functionEntry(projectRoot, name)],
    outfile: join(outDir, 'index.js'),
    logLevel: 'error',
  });
}
