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

/**
 * Packages bundled as a smaller module of the project's (esbuild `alias`; paths relative to the project root). Each
 * replacement must behave the same for everything tmc's dependencies call on it; the file says why it does.
 */
const ALIASES: Record<string, string> = {
  'whatwg-url': 'infra/shims/whatwg-url.cjs',
};

/** The aliases with absolute paths (esbuild resolves an alias's target from its working directory otherwise). */
export function bundlingAliases(projectRoot: string): Record<string, string> {
  return Object.fromEntries(Object.entries(ALIASES).map(([pkg, path]) => [pkg, `${projectRoot}/${path}`]));
}

/** The aliases as esbuild command-line arguments, for NodejsFunction's `esbuildArgs`. */
export function bundlingAliasArgs(projectRoot: string): Record<string, string> {
  return Object.fromEntries(Object.entries(bundlingAliases(projectRoot)).map(([pkg, path]) => [`--alias:${pkg}`, path]));
}

/** The entry of a function's bundle. */
export function functionEntry(projectRoot: string, name: FunctionName): string {
  return `${projectRoot}/functions/${name}/handler.ts`;
}

/** esbuild options equal to what NodejsFunction runs for BUNDLING (CommonJS, platform node). */
export function esbuildOptions(projectRoot: string): BuildOptions {
  return {
    alias: bundlingAliases(projectRoot),
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
 * ~15-20% headroom so growth is a decision, not a drift. Functions that talk to Kubernetes carry @kubernetes/client-node's
 * KubeConfig (with its generated models and auth plugins, ~0.7 MiB minified) and measure ~1.7 MiB; metrics-rollup
 * carries protobufjs, prom-client and the SigV4 signer for remote-write (~1.2 MiB). The rest measure 0.75-1 MiB, of which
 * zod is ~0.43 MiB (its classic API with every locale: esbuild cannot shake `export * as locales`).
 */
export const BUNDLE_BUDGET_BYTES: Record<FunctionName, number> = {
  ingress: 1.2 * MIB,
  api: 1.15 * MIB,
  authorizer: 0.9 * MIB,
  'metrics-rollup': 1.4 * MIB,
  placement: 2 * MIB,
  'sync-apply': 2 * MIB,
  'status-up': 2 * MIB,
  'health-probe': 2 * MIB,
  'recovery-sweep': 2 * MIB,
  'virtual-workspace': 2 * MIB,
};
