import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUNCTIONS, type FunctionName } from '../lib/runtime/resources';
import { bundleFunction } from './bundle-function';

// `tsx infra/bundle-function-cli.ts <function> <outDir>`: what the CDK asset's local bundling runs (infra/tmc-function.ts).
const [name, outDir] = process.argv.slice(2);
const isFunctionName = (n: string | undefined): n is FunctionName => n !== undefined && Object.hasOwn(FUNCTIONS, n);
if (!isFunctionName(name) || outDir === undefined) {
  process.stderr.write(`usage: bundle-function-cli.ts <${Object.keys(FUNCTIONS).join('|')}> <outDir>\n`);
  process.exit(2);
}
await bundleFunction(resolve(dirname(fileURLToPath(import.meta.url)), '..'), name, outDir);
