import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Where the local stack keeps its state: `.tmc/` in the project by default, a temp dir in tests. */
export interface StatePaths {
  root: string;
  dynamodb: string;
  kcpKubeconfig: string;
  /** The simulated kcp as tmc's own user (the functions' TMC_KCP_KUBECONFIG); kcpKubeconfig is the user's. */
  tmcKcpKubeconfig: string;
  clustersDir: string;
  webhookToken: string;
  /** The key Secret content hashes are made with; generated once, kept with the state it hashes. */
  contentKey: string;
  clusterKubeconfig(name: string): string;
}

export function statePaths(stateDir: string): StatePaths {
  const root = resolve(stateDir);
  return {
    root,
    dynamodb: join(root, 'dynamodb'),
    kcpKubeconfig: join(root, 'kcp.kubeconfig'),
    tmcKcpKubeconfig: join(root, 'tmc-kcp.kubeconfig'),
    clustersDir: join(root, 'clusters'),
    webhookToken: join(root, 'webhook-token'),
    contentKey: join(root, 'content-key'),
    clusterKubeconfig: (name: string): string => join(root, 'clusters', `${name}.kubeconfig`),
  };
}

/**
 * The project root (where functions/ and config/ live). Found from the working directory upwards because lib code
 * cannot use import.meta (jest compiles to CommonJS) and tsx's ESM has no __dirname.
 */
export function findProjectRoot(start: string = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'lib', 'runtime', 'resources.ts'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(start);
    dir = parent;
  }
}
