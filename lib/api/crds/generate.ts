import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdFiles } from './crd-builder';

// Run from the repository root: `npx tsx lib/api/crds/generate.ts`. The drift test compares with the same renderer.
const outDir = join(process.cwd(), 'config', 'tmc');
mkdirSync(outDir, { recursive: true });
for (const [file, text] of Object.entries(renderCrdFiles())) {
  writeFileSync(join(outDir, file), text);
  process.stdout.write(`Wrote config/tmc/${file}\n`);
}
