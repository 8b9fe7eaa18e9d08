import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatBundleReport, measureBundles } from './bundle-sizes';
import { deployableFunctions } from './tmc-app';

// `npm run bundle-report`: every function's minified bundle against its budget (infra/bundling.ts); exits 1 if over.
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sizes = await measureBundles(projectRoot, deployableFunctions(projectRoot));
process.stdout.write(`${formatBundleReport(sizes)}\n`);
const over = sizes.filter((s) => s.bytes > s.budgetBytes);
if (over.length > 0) {
  process.stderr.write(
    `Over budget: ${over.map((s) => s.name).join(', ')}. Find what grew with esbuild's --analyze, or raise the budget in infra/bundling.ts with a reason\n`,
  );
  process.exitCode = 1;
}
