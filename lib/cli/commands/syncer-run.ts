import { createServer, type Server } from 'node:http';
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { PromMetrics } from '../../metrics/prom-metrics';
import { createLogger, fromPowertools } from '../../runtime/logger';
import { Syncer, SyncerStartupError } from '../../syncer/syncer';
import { parsePort, parseSeconds } from './options';

interface SyncerCommandOptions {
  syncTargetName: string;
  syncTargetUid: string;
  workspaceCluster: string;
  kcpKubeconfig: string;
  clusterKubeconfig?: string;
  resync: number;
  heartbeat: number;
  qps: number;
  burst: number;
  healthPort?: number;
  metricsPort?: number;
  logLevel: string;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

const expandHome = (path: string): string => (path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path);

/**
 * Gives `command` the syncer's flags and runs the syncer as its action: `tmc syncer` and the image's entry point
 * (lib/cli/syncer-main.ts) share it. Nothing here imports the local stack, so the image bundles only the syncer.
 */
export function configureSyncerRun(command: Command): Command {
  return command
    .description(
      "Run the pull-mode workload syncer beside a cluster: it connects outbound to tmc's virtual workspace (docs/syncer.md)",
    )
    .option('--sync-target-name <name>', 'the SyncTarget this syncer serves')
    .option('--sync-target-uid <uid>', "the SyncTarget's metadata.uid (refuses to start on a mismatch)")
    .option('--workspace-cluster <path>', 'the kcp workspace of the SyncTarget, e.g. root:my-workspace')
    .option(
      '--kcp-kubeconfig <file>',
      "the SyncTarget's virtual-workspace credentials (tmc syncer kubeconfig, .tmc/syncers/<name>.kubeconfig); re-read when it changes",
    )
    .option(
      '--cluster-kubeconfig <file>',
      "credentials for the cluster beside the syncer (default: the pod's ServiceAccount in a pod, else ~/.kube/config)",
    )
    .option('--resync <seconds>', "seconds between full passes over the SyncTarget's work", parseSeconds, 600)
    .option(
      '--heartbeat <seconds>',
      'seconds between heartbeats (the SyncTarget is not Ready without them)',
      parseSeconds,
      60,
    )
    .option('--qps <n>', 'requests per second to the virtual workspace', parsePositive, 20)
    .option('--burst <n>', 'request burst to the virtual workspace', parsePositive, 40)
    .option('--health-port <port>', 'serve /healthz and /readyz on this port', parsePort)
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port', parsePort)
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (options: Partial<SyncerCommandOptions>, command: Command) => {
      // Checked here, not as commander's required options, which would also be demanded of `tmc syncer kubeconfig`.
      const missing = (['syncTargetName', 'syncTargetUid', 'workspaceCluster', 'kcpKubeconfig'] as const).filter(
        (key) => options[key] === undefined,
      );
      if (missing.length > 0)
        command.error(
          `error: required option ${missing.map((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} not specified`,
        );
      await runSyncer(options as SyncerCommandOptions);
    });
}

/** The cluster's kubeconfig: the flag, else in a pod its ServiceAccount (undefined), else ~/.kube/config (as kubectl). */
export function clusterKubeconfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined) return expandHome(flag);
  return env.KUBERNETES_SERVICE_HOST ? undefined : expandHome('~/.kube/config');
}

async function runSyncer(options: SyncerCommandOptions): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL = options.logLevel.toUpperCase();
  const log = fromPowertools(createLogger('syncer'));
  const metrics = new PromMetrics();
  let syncer: Syncer;
  try {
    syncer = await Syncer.create({
      syncTargetName: options.syncTargetName,
      syncTargetUid: options.syncTargetUid,
      workspace: options.workspaceCluster,
      kcpKubeconfig: expandHome(options.kcpKubeconfig),
      clusterKubeconfig: clusterKubeconfigPath(options.clusterKubeconfig, process.env),
      resyncSeconds: options.resync,
      heartbeatSeconds: options.heartbeat,
      qps: options.qps,
      burst: options.burst,
      log,
      metrics,
    });
  } catch (err) {
    if (err instanceof SyncerStartupError) {
      process.stderr.write(`tmc syncer: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  const servers: Server[] = [];
  if (options.healthPort !== undefined) {
    servers.push(
      createServer((req, res) => {
        const ok = req.url === '/healthz' || (req.url === '/readyz' && syncer.ready);
        res
          .writeHead(req.url === '/healthz' || req.url === '/readyz' ? (ok ? 200 : 503) : 404, {
            'content-type': 'text/plain',
          })
          .end(ok ? 'ok' : 'not ready');
      }).listen(options.healthPort),
    );
  }
  if (options.metricsPort !== undefined) {
    servers.push(
      createServer((req, res) => {
        if (req.url !== '/metrics') return void res.writeHead(404).end();
        void metrics
          .render()
          .then((text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text));
      }).listen(options.metricsPort),
    );
  }
  const shutdown = async (): Promise<void> => {
    log.info(`Stopping the syncer of ${options.syncTargetName}`);
    await syncer.stop();
    for (const server of servers) server.close();
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  log.info(`Syncing SyncTarget ${options.syncTargetName} of ${options.workspaceCluster}`, {
    workspace: options.workspaceCluster,
    cluster: options.syncTargetName,
  });
  await syncer.run();
}
