import { join } from 'node:path';
import type { WorkloadSimulationOptions } from './contracts';
import type { WebhookFailOpen } from './admission';
import { type SimServer, type SimServerOptions, startSimServer } from './sim-server';

export interface SimulatedClusterSpec {
  name: string;
  labels?: Record<string, string>;
  capacity?: WorkloadSimulationOptions['capacity'];
  readyDelayMs?: number;
  port?: number;
  /** Webhook calls carry no Authorization header, like a managed cluster's (SimServerOptions.managed). */
  managed?: boolean;
}

export interface SimulationOptions {
  kcp: { name?: string; workspaces: string[]; port?: number };
  clusters: SimulatedClusterSpec[];
  /** Writes `<dir>/kcp.kubeconfig` (current context: the first workspace) and `<dir>/clusters/<name>.kubeconfig`. */
  kubeconfigDir?: string;
  /** Added to every request of every server (realistic round trips for benchmarks). */
  latencyMs?: number;
  readyDelayMs?: number;
  /** Request log records each server keeps (SimServerOptions.requestLogLimit). */
  requestLogLimit?: number;
  /** How long Events live after their last write on every server (SimServerOptions.eventTtlMs; default 1 hour). */
  eventTtlMs?: number;
  /** A webhook call of any server that failed open, with the server's name. */
  onWebhookFailOpen?: (server: string, failure: WebhookFailOpen) => void;
}

export interface Simulation {
  kcp: SimServer;
  clusters: Record<string, SimServer>;
  kubeconfigs?: { kcp: string; clusters: Record<string, string> };
  stop(): Promise<void>;
}

/** One kcp with logical clusters plus N physical clusters, each a real HTTP API server on loopback. */
export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  const failOpen = (server: string): SimServerOptions['onWebhookFailOpen'] =>
    options.onWebhookFailOpen && ((failure) => options.onWebhookFailOpen?.(server, failure));
  const kcp = await startSimServer({
    name: options.kcp.name ?? 'kcp',
    mode: 'kcp',
    onWebhookFailOpen: failOpen(options.kcp.name ?? 'kcp'),
    port: options.kcp.port,
    latencyMs: options.latencyMs,
    requestLogLimit: options.requestLogLimit,
    eventTtlMs: options.eventTtlMs,
  });
  for (const ws of options.kcp.workspaces) kcp.createLogicalCluster(ws);
  const clusters: Record<string, SimServer> = {};
  for (const c of options.clusters) {
    clusters[c.name] = await startSimServer({
      name: c.name,
      mode: 'cluster',
      onWebhookFailOpen: failOpen(c.name),
      port: c.port,
      managed: c.managed,
      latencyMs: options.latencyMs,
      requestLogLimit: options.requestLogLimit,
      eventTtlMs: options.eventTtlMs,
      workloads: { readyDelayMs: c.readyDelayMs ?? options.readyDelayMs ?? 1000, capacity: c.capacity },
    });
  }
  let kubeconfigs: Simulation['kubeconfigs'];
  if (options.kubeconfigDir) {
    const kcpFile = join(options.kubeconfigDir, 'kcp.kubeconfig');
    kcp.writeKubeconfig(kcpFile, { logicalCluster: options.kcp.workspaces[0] });
    const clusterFiles: Record<string, string> = {};
    for (const [name, server] of Object.entries(clusters)) {
      clusterFiles[name] = join(options.kubeconfigDir, 'clusters', `${name}.kubeconfig`);
      server.writeKubeconfig(clusterFiles[name]);
    }
    kubeconfigs = { kcp: kcpFile, clusters: clusterFiles };
  }
  return {
    kcp,
    clusters,
    kubeconfigs,
    stop: async () => {
      await Promise.all([kcp.stop(), ...Object.values(clusters).map((c) => c.stop())]);
    },
  };
}

/** `tmc sim`: a simulation on its own, until SIGINT/SIGTERM. */
export async function runSimulatorStandalone(
  options: SimulationOptions & { log?: (line: string) => void },
): Promise<void> {
  const log = options.log ?? ((line: string): void => void process.stdout.write(`${line}\n`));
  const sim = await startSimulation(options);
  log(`kcp      ${sim.kcp.url} (workspaces: ${options.kcp.workspaces.join(', ')}; admin: ${sim.kcp.adminUrl})`);
  for (const [name, c] of Object.entries(sim.clusters))
    log(`cluster  ${name.padEnd(8)} ${c.url} (admin: ${c.adminUrl})`);
  if (sim.kubeconfigs) {
    log(`kubeconfigs in ${options.kubeconfigDir}`);
    log(`try: kubectl --kubeconfig ${sim.kubeconfigs.kcp} get namespaces`);
  }
  log('Ctrl-C stops the simulator');
  await new Promise<void>((resolve) => {
    const stop = (): void => void sim.stop().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
