import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export interface LoadedBundle {
  bytes: number;
  /** `typeof` the handler export once the bundle is required: `function` when Lambda could call it. */
  handlerType: string;
}

/**
 * Requires a bundle in a fresh `node`, outside the project (no tsx, no node_modules on the path, an empty
 * environment but a region), the way Lambda's Node.js runtime loads `index.handler`: a bundle that misses a module,
 * breaks in a shim or throws at load time fails here instead of on its first cold start. It is loaded from a copy in
 * a directory of its own, as from /var/task: in place (cdk.out) Node would take the project's `"type": "module"` for
 * it and load the CommonJS bundle as an ES module with no exports.
 */
export function loadBundle(file: string, exportName: string): LoadedBundle {
  const dir = mkdtempSync(join(tmpdir(), 'tmc-bundle-'));
  try {
    const copy = join(dir, basename(file));
    copyFileSync(file, copy);
    const script = `const m = require(${JSON.stringify(copy)}); process.stdout.write(typeof m[${JSON.stringify(exportName)}]);`;
    const handlerType = execFileSync(process.execPath, ['-e', script], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { bytes: statSync(file).size, handlerType };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
