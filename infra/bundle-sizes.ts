import { build } from 'esbuild';
import type { FunctionName } from '../lib/runtime/resources';
import { BUNDLE_BUDGET_BYTES, esbuildOptions, functionEntry } from './bundling';

export interface BundleSize {
  name: FunctionName;
  /** Minified handler.js, the source map not counted (Lambda loads it only with a stack trace). */
  bytes: number;
  budgetBytes: number;
  /** Packages the bundle contains (from esbuild's metafile), for "bundles only what it imports" checks. */
  packages: string[];
}

function packageOf(input: string): string | undefined {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1];
}

/** Bundles each function exactly as the CDK stack does (one esbuild run for all) and measures the result. */
export async function measureBundles(projectRoot: string, names: readonly FunctionName[]): Promise<BundleSize[]> {
  const result = await build({
    ...esbuildOptions(projectRoot),
    entryPoints: Object.fromEntries(names.map((name) => [name, functionEntry(projectRoot, name)])),
    outdir: `${projectRoot}/cdk.out/bundle-report`,
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  return names.map((name) => {
    const output = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith(`${name}.js`));
    if (output === undefined) throw new Error(`esbuild produced no bundle for functions/${name}`);
    const packages = new Set<string>();
    for (const input of Object.keys(output[1].inputs)) {
      const pkg = packageOf(input);
      if (pkg !== undefined) packages.add(pkg);
    }
    return { name, bytes: output[1].bytes, budgetBytes: BUNDLE_BUDGET_BYTES[name], packages: [...packages].sort() };
  });
}

/** A table for the terminal: function, size, budget, share of budget. */
export function formatBundleReport(sizes: readonly BundleSize[]): string {
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
  const rows = sizes.map((s) => [
    s.name,
    kib(s.bytes),
    kib(s.budgetBytes),
    `${Math.round((100 * s.bytes) / s.budgetBytes)}%`,
    s.bytes > s.budgetBytes ? 'OVER' : 'ok',
  ]);
  const header = ['function', 'minified', 'budget', 'used', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
