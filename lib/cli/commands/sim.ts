import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { findProjectRoot } from '../../local/paths';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { parseClusters, parsePort } from './options';

interface SimOptions {
  port?: number;
  workspace: string;
  clusters?: number | string[];
  stateDir?: string;
}

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('Run only the Kubernetes/kcp simulator (a kcp and simulated clusters), without tmc')
    .option('-p, --port <port>', 'kcp port (0 picks a free one)', parsePort)
    .option('-w, --workspace <path>', 'kcp workspace', DEFAULT_WORKSPACE)
    .option('--clusters <n|names>', 'simulated clusters: a count or comma-separated names', parseClusters)
    .option('--state-dir <dir>', 'where kubeconfigs go (default .tmc)')
    .action(async (options: SimOptions) => {
      const root = findProjectRoot();
      const path = join(root, 'lib', 'sim', 'index.ts');
      if (!existsSync(path)) throw new Error('The simulator (lib/sim) is not built yet');
      const mod: unknown = await import(path);
      const run = typeof mod === 'object' && mod !== null ? (mod as { runSimulatorStandalone?: unknown }).runSimulatorStandalone : undefined;
      if (typeof run !== 'function') throw new Error('lib/sim exports no runSimulatorStandalone');
      await (run as (options: Record<string, unknown>) => Promise<unknown>)({
        port: options.port,
        workspace: options.workspace,
        clusters: options.clusters,
        dir: options.stateDir ?? join(root, '.tmc'),
      });
    });
}
