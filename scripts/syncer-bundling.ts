import { build, type Metafile } from 'esbuild';
import { esbuildOptions } from '../infra/bundling';

/**
 * Bundles the syncer image's entry point (lib/cli/syncer-main.ts) alone into one file, with the functions' esbuild
 * options and shims (infra/bundling.ts). deploy/syncer/Dockerfile runs it through scripts/bundle-syncer.ts.
 */
export async function bundleSyncer(projectRoot: string, outFile: string): Promise<Metafile> {
  const result = await build({
    ...esbuildOptions(projectRoot),
    entryPoints: [`${projectRoot}/lib/cli/syncer-main.ts`],
    outfile: outFile,
    sourcemap: false,
    metafile: true,
    logLevel: 'error',
  });
  return result.metafile;
}
