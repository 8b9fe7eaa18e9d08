import { dirname, join, relative } from 'node:path';
import type { Command } from 'commander';
import { createStackLogger } from '../../local/log';
import { DEFAULT_API_PORT, DEFAULT_WORKSPACE, startLocalStack, type LocalStack } from '../../local/stack';
import { PortInUseError } from '../../local/http-server';
import { LONG_RUNNING_REQUEST_LOG_LIMIT } from '../../sim';
import { collectPairs, parseClusters, parsePort, parseSeconds, requireKubeconfigFile } from './options';

interface DevOptions {
  port: number;
  workspace: string;
  clusters?: number | string[];
  pullCluster?: string[];
  stateDir?: string;
  fresh?: boolean;
  kcpKubeconfig?: string;
  cluster?: Record<string, string>;
  schedule?: Record<string, number>;
  schedules: boolean;
  prometheusRemoteWrite?: string;
  eventTtl: number;
}

/** The readiness banner: what to point things at, and how to stop. */
export function renderBanner(stack: LocalStack, cwd: string = process.cwd()): string {
  const show = (path: string): string => (relative(cwd, path).startsWith('..') ? path : relative(cwd, path) || '.');
  const clusters = Object.entries(stack.clusterKubeconfigs).map(
    ([name, path]) => `    ${name.padEnd(8)} ${show(path)}`,
  );
  return [
    '',
    'tmc is running',
    `  API            ${stack.apiUrl}`,
    `  kcp            ${show(stack.kcpKubeconfig)}  (workspace ${stack.workspace})`,
    ...(clusters.length > 0 ? ['  clusters', ...clusters] : []),
    ...Object.entries(stack.syncerKubeconfigs ?? {}).flatMap(([name, path]) => [
      `  pull cluster ${name}: run its syncer in another terminal:`,
      `    npx tmc syncer --sync-target-name=${name} \\`,
      `      --sync-target-uid=$(kubectl --kubeconfig ${show(stack.kcpKubeconfig)} get synctarget ${name} -o jsonpath='{.metadata.uid}') \\`,
      `      --workspace-cluster=${stack.workspace} --kcp-kubeconfig=${show(path)} \\`,
      `      --cluster-kubeconfig=${show(stack.clusterKubeconfigs[name] ?? '')}`,
    ]),
    `  try            kubectl --kubeconfig ${show(stack.kcpKubeconfig)} get synctargets`,
    `  every copy     npx tmc vw kubeconfig, then kubectl --kubeconfig ${show(join(dirname(stack.kcpKubeconfig), 'vw.kubeconfig'))} get deployments -A`,
    '  stop           Ctrl-C',
    '',
  ].join('\n');
}

/** What `tmc dev` tells the user when the stack does not start: the port case says how to pick another. */
export function explainStartFailure(err: unknown): unknown {
  if (err instanceof PortInUseError) {
    return new Error(
      `Port ${err.port} is in use (another \`npm start\`?): stop that process, or pick another port with --port <n> (--port 0 picks a free one)`,
      { cause: err },
    );
  }
  return err;
}

export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description(
      'Run all of tmc on this machine: DynamoDB, SQS, the functions, the schedules and a simulated kcp with clusters',
    )
    .option('-p, --port <port>', 'HTTP API port (0 picks a free one)', parsePort, DEFAULT_API_PORT)
    .option('-w, --workspace <path>', 'kcp workspace', DEFAULT_WORKSPACE)
    .option(
      '--clusters <n|names>',
      'simulated clusters: a count or comma-separated names (default east,west,edge)',
      parseClusters,
    )
    .option(
      '--pull-cluster <name>',
      'a simulated cluster in pull mode, synced by `tmc syncer` (repeatable)',
      (name: string, previous: string[] = []) => [...previous, name],
    )
    .option('--state-dir <dir>', 'where state and kubeconfigs go (default .tmc)')
    .option('--fresh', 'wipe the state dir first')
    .option('--kcp-kubeconfig <path>', 'use this real kcp instead of the simulator')
    .option(
      '--cluster <name=kubeconfig>',
      'a real cluster to register (repeatable; with --kcp-kubeconfig)',
      collectPairs('NAME=KUBECONFIG'),
    )
    .option(
      '--schedule <name=seconds>',
      'run a schedule at this rate (repeatable)',
      collectPairs('NAME=SECONDS', parseSeconds),
    )
    .option('--no-schedules', 'do not run the schedules')
    .option(
      '--event-ttl <seconds>',
      "simulated kcp and clusters delete an Event this long after its last write (kube's --event-ttl)",
      parseSeconds,
      3600,
    )
    .option(
      '--prometheus-remote-write <url>',
      'push metrics to this Prometheus remote-write URL on the metrics-rollup schedule',
    )
    .action(async (options: DevOptions) => {
      if (options.cluster !== undefined && options.kcpKubeconfig === undefined) {
        throw new Error('--cluster needs --kcp-kubeconfig (real clusters are registered in a real kcp)');
      }
      if (options.kcpKubeconfig !== undefined) {
        requireKubeconfigFile(
          '--kcp-kubeconfig',
          options.kcpKubeconfig,
          "Pass the path of your kcp's kubeconfig, or leave the flag out to run the simulated kcp",
        );
      }
      for (const [name, path] of Object.entries(options.cluster ?? {})) {
        requireKubeconfigFile(`--cluster ${name}=`, path, `Pass the path of cluster ${name}'s kubeconfig`);
      }
      // A person at a terminal reads one coloured line per record, the functions' logs included; piped, JSON stays.
      if (process.stdout.isTTY && process.env.TMC_LOG_FORMAT === undefined) process.env.TMC_LOG_FORMAT = 'pretty';
      const logger = createStackLogger();
      const stack = await startLocalStack({
        port: options.port,
        workspace: options.workspace,
        clusters: options.clusters,
        pullClusters: options.pullCluster,
        stateDir: options.stateDir,
        fresh: options.fresh,
        kcpKubeconfig: options.kcpKubeconfig,
        clusterKubeconfigs: options.cluster,
        scheduleRates: options.schedule,
        schedules: options.schedules,
        prometheusRemoteWriteUrl: options.prometheusRemoteWrite,
        // ingress, placement, sync-apply and status-up each in a worker thread: the stack uses more than one core.
        functionThreads: true,
        // Nothing resets the simulator's request logs in a stack left running: the newest requests only.
        simulator: { requestLogLimit: LONG_RUNNING_REQUEST_LOG_LIMIT, eventTtlMs: options.eventTtl * 1000 },
        logger,
      }).catch((err: unknown) => {
        throw explainStartFailure(err);
      });
      process.stdout.write(renderBanner(stack));
      await waitForSignal();
      logger.info('Stopping');
      await stack.stop();
      logger.info('Stopped');
    });
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once (a stuck shutdown must not trap the user). */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
