import type { BuildOptions } from 'esbuild';
import type { FunctionName } from '../lib/runtime/resources';

/**
 * How every function is bundled: one description read both by the CDK function construct (NodejsFunction's
 * `bundling`) and by the bundle-size report (esbuild directly), so the bytes the report measures are the bytes
 * deployed.
 */
export const BUNDLING = {
  target: 'node22',
  minify: true,
  /** External maps, loaded by `--enable-source-maps`: stack traces point at the TypeScript, the code stays small. */
  sourceMap: true,
  sourcesContent: false,
  /** ESM builds of dependencies first: they tree-shake better. */
  mainFields: ['module', 'main'],
  /**
   * Nothing external: the runtime's own AWS SDK lags behind the version tests run against, and a bundled, minified SDK
   * loads faster than the runtime's unbundled one.
   */
  externalModules: [] as string[],
} as const;

/** The entry of a function's bundle. */
export function functionEntry(projectRoot: string, name: FunctionName): string {
  return `${projectRoot}/functions/${name}/handler.ts`;
}

/** esbuild options equal to what NodejsFunction runs for BUNDLING (CommonJS, platform node). */
export function esbuildOptions(): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap ? 'external' : false,
    sourcesContent: BUNDLING.sourcesContent,
    mainFields: [...BUNDLING.mainFields],
    external: [...BUNDLING.externalModules],
  };
}

const MIB = 1024 * 1024;

/**
 * Minified bundle budgets (bytes of handler.js, without its source map), set from measurements (docs/deploy.md) with
 * ~15-20% headroom so growth is a decision, not a drift. Functions that talk to Kubernetes carry
 * @kubernetes/client-node (about 1 MiB minified by itself, ENVIRONMENT.md) and measure ~2.1 MiB; metrics-rollup
 * carries protobufjs, prom-client and the SigV4 signer for remote-write (~1.5 MiB). The rest stay near 1 MiB.
 */
export const BUNDLE_BUDGET_BYTES: Record<FunctionName, number> = {
  ingress: 1.25 * MIB,
  api: 1.25 * MIB,
  authorizer: 1 * MIB,
  'metrics-rollup': 1.75 * MIB,
  placement: 2.5 * MIB,
  'sync-apply': 2.5 * MIB,
  'status-up': 2.5 * MIB,
  'health-probe': 2.5 * MIB,
  'recovery-sweep': 2.5 * MIB,
};
