import { join } from 'node:path';
import type { Command } from 'commander';
import { clusterLabels, resolveClusters } from '../../local/clusters';
import { findProjectRoot } from '../../local/paths';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { runSimulatorStandalone } from '../../sim';
import { parseClusters, parsePort, parseSeconds } from './options';

interface SimOptions {
  port?: number;
  workspace: string;
  clusters?: number | string[];
  stateDir?: string;
  eventTtl: number;
}

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('Run only the Kubernetes/kcp simulator (a kcp and simulated clusters), without tmc')
    .option('-p, --port <port>', 'kcp port (0 picks a free one)', parsePort)
    .option('-w, --workspace <path>', 'kcp workspace', DEFAULT_WORKSPACE)
    .option('--clusters <n|names>', 'simulated clusters: a count or comma-separated names', parseClusters)
    .option('--state-dir <dir>', 'where kubeconfigs go (default .tmc)')
    .option(
      '--event-ttl <seconds>',
      "Events are deleted this long after their last write (kube's --event-ttl)",
      parseSeconds,
      3600,
    )
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
        eventTtlMs: options.eventTtl * 1000,
      });
    });
}
