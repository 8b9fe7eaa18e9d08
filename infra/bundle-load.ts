import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';

export interface LoadedBundle {
  bytes: number;
  /** `typeof` the handler export once the bundle is required: `function` when Lambda could call it. */
  handlerType: string;
}

/**
 * Requires a bundle in a fresh `node`, outside the project (no tsx, no node_modules on the path, an empty
 * environment but a region), the way Lambda's Node.js runtime loads `index.handler`: a bundle that misses a module,
 * breaks in a shim or throws at load time fails here instead of on its first cold start.
 */
export function loadBundle(file: string, exportName: string): LoadedBundle {
  const script = `const m = require(${JSON.stringify(file)}); process.stdout.write(typeof m[${JSON.stringify(exportName)}]);`;
  const handlerType = execFileSync(process.execPath, ['-e', script], {
    cwd: '/',
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { bytes: statSync(file).size, handlerType };
}
