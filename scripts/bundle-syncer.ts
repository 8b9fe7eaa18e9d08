import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleSyncer } from './syncer-bundling';

// `tsx scripts/bundle-syncer.ts <outFile>`: what deploy/syncer/Dockerfile's build stage runs.
const outFile = process.argv[2];
if (outFile === undefined) {
  process.stderr.write('usage: tsx scripts/bundle-syncer.ts <outFile>\n');
  process.exit(2);
}
await bundleSyncer(resolve(dirname(fileURLToPath(import.meta.url)), '..'), resolve(outFile));
