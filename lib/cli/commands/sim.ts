import { join } from 'node:path';
import type { Command } from 'commander';
import { clusterLabels, resolveClusters } from '../../local/clusters';
import { findProjectRoot } from '../../local/paths';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { runSimulatorStandalone } from '../../sim';
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
      // The same clusters (names, labels, capacity) as `tmc dev`, without tmc's functions.
      await runSimulatorStandalone({
        kcp: { workspaces: [options.workspace], port: options.port },
        clusters: resolveClusters(options.clusters).map((c) => ({
          name: c.name,
          labels: clusterLabels(c),
          capacity: { cpu: c.capacity.cpu, memory: c.capacity.memory, pods: Number(c.capacity.pods) },
        })),
        kubeconfigDir: options.stateDir ?? join(findProjectRoot(), '.tmc'),
      });
    });
}
