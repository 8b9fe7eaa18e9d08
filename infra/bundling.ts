import type { BuildOptions, Plugin } from 'esbuild';
import type { FunctionName } from '../lib/runtime/resources';

/**
 * How every function is bundled: one description run by the CDK asset's local bundling (infra/bundle-function.ts)
 * and by the bundle-size report and test, so the bytes they measure are the bytes deployed.
 */
export const BUNDLING = {
  target: 'node22',
  minify: true,
  /** Licence comments go to a file beside the bundle (handler.js.LEGAL.txt), not into the code a cold start parses. */
  legalComments: 'external',
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
  '@aws-sdk/credential-provider-node': 'infra/shims/credential-provider-env-only.mjs',
  'socks-proxy-agent': 'infra/shims/socks-proxy-agent.mjs',
  long: 'infra/shims/long.cjs',
  '@opentelemetry/api': 'infra/shims/opentelemetry-api.cjs',
};

/** The aliases with absolute paths (esbuild resolves an alias's target from its working directory otherwise). */
export function bundlingAliases(projectRoot: string): Record<string, string> {
  return Object.fromEntries(Object.entries(ALIASES).map(([pkg, path]) => [pkg, `${projectRoot}/${path}`]));
}

/** The entry of a function's bundle. */
export function functionEntry(projectRoot: string, name: FunctionName): string {
  return `${projectRoot}/functions/${name}/handler.ts`;
}

/**
 * Relative imports inside a package bundled as a smaller module of the project's (infra/shims/): `alias` reaches only
 * package names, so a plugin resolves these. Each shim says why it behaves the same for everything tmc calls.
 */
const REDIRECTS: ReadonlyArray<{ importer: RegExp; path: string; to: string }> = [
  // KubeConfig uses two names from the generated client's barrel, which re-exports every API model (~313 KiB).
  {
    importer: /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/,
    path: './gen/index.js',
    to: 'infra/shims/client-node-gen.mjs',
  },
  // The gcp and azure auth-providers run a host command, as exec plugins do: never usable in a Lambda.
  {
    importer: /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/,
    path: './gcp_auth.js',
    to: 'infra/shims/client-node-cloud-auth.mjs',
  },
  {
    importer: /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/,
    path: './azure_auth.js',
    to: 'infra/shims/client-node-cloud-auth.mjs',
  },
  // zod's entries re-export every locale as a namespace, which esbuild cannot shake (~258 KiB).
  {
    importer: /[\\/]zod[\\/]v4[\\/](core[\\/]index|classic[\\/]external)\.js$/,
    path: '../locales/index.js',
    to: 'infra/shims/zod-locales.mjs',
  },
  // prometheus-remote-write loads full protobufjs (its .proto parser, ~80 KiB) only for a custom `proto` option, which
  // tmc never passes: its generated encoder needs protobufjs/minimal alone.
  {
    importer: /[\\/]prometheus-remote-write[\\/]index\.js$/,
    path: 'protobufjs',
    to: 'node_modules/protobufjs/minimal.js',
  },
  {
    importer: /[\\/]prometheus-remote-write[\\/]index\.js$/,
    path: 'node-fetch',
    to: 'infra/shims/node-fetch.cjs',
  },
];

export function redirectsPlugin(projectRoot: string): Plugin {
  return {
    name: 'tmc-shims',
    setup(build) {
      for (const redirect of REDIRECTS) {
        const filter = new RegExp(`^${redirect.path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
        build.onResolve({ filter }, (args) =>
          redirect.importer.test(args.importer) ? { path: `${projectRoot}/${redirect.to}` } : undefined,
        );
      }
    },
  };
}

/** esbuild options for every function's bundle (CommonJS, platform node); infra/bundle-function.ts runs them for CDK. */
export function esbuildOptions(projectRoot: string): BuildOptions {
  return {
    alias: bundlingAliases(projectRoot),
    plugins: [redirectsPlugin(projectRoot)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    legalComments: BUNDLING.legalComments,
    sourcemap: BUNDLING.sourceMap ? 'external' : false,
    sourcesContent: BUNDLING.sourcesContent,
    mainFields: [...BUNDLING.mainFields],
    external: [...BUNDLING.externalModules],
  };
}

const MIB = 1024 * 1024;

/** Every function's bundle stays at or under this: a cold start loads and compiles all of it. */
export const BUNDLE_CAP_BYTES = MIB;

/**
 * Minified bundle budgets (bytes of handler.js, without its source map), set from measurements with ~8-20% headroom
 * and never above BUNDLE_CAP_BYTES, so growth is a decision, not a drift. The shims (ALIASES, REDIRECTS) keep
 * client-node's generated models, zod's locales, the SDK's non-Lambda credential sources, SOCKS, the host-command
 * auth-providers and remote-write's unused .proto parser out (infra/bundle-report.ts prints the figures).
 */
export const BUNDLE_BUDGET_BYTES: Record<FunctionName, number> = {
  ingress: 0.85 * MIB,
  api: 0.85 * MIB,
  // wrapHandler's tracer middleware brings Powertools' tracer (loaded only when tracing is on) to the authorizer too.
  authorizer: 0.55 * MIB,
  'metrics-rollup': 0.95 * MIB,
  placement: MIB,
  'sync-apply': MIB,
  'status-up': MIB,
  'health-probe': MIB,
  'recovery-sweep': MIB,
  'virtual-workspace': MIB,
  'syncer-feed': 0.65 * MIB,
  'syncer-feed-authorizer': 0.65 * MIB,
};
