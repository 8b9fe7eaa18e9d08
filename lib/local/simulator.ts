import { type Simulation, startSimulation } from '../sim';
import type { WebhookCredentialsFor } from '../webhooks';
import type { LocalClusterSpec } from './clusters';
import type { StackLogger } from './log';

/** The simulated kcp and clusters as the local stack sees them. */
export interface SimulatedEnvironment {
  /** kcp's base URL (workspaces are served under `/clusters/<path>`). */
  kcpUrl: string;
  /** Each simulated cluster's API server URL, by name. */
  clusterUrls: Record<string, string>;
  /** The simulator's own handle (fault injection, request counters) for tests and benchmarks. */
  handle: Simulation;
  /** Tells the simulated API servers which bearer token to present to tmc's webhooks. */
  setWebhookCredentials(credentialsFor: WebhookCredentialsFor): void;
  stop(): Promise<void>;
}

export interface SimulatorRequest {
  workspace: string;
  clusters: LocalClusterSpec[];
  /** Where the simulator may write its own kubeconfigs. */
  kubeconfigDir: string;
  logger: StackLogger;
  /** Time a simulated workload takes to become ready (default 1 s). */
  readyDelayMs?: number;
  /** Added to every simulated API request (benchmarks use 5 ms for realistic round trips). */
  latencyMs?: number;
}

/** Starts lib/sim's simulation: one kcp with the workspace, and a simulated API server per cluster. */
export async function startSimulator(_projectRoot: string, request: SimulatorRequest): Promise<SimulatedEnvironment> {
  const sim: Simulation = await startSimulation({
    kcp: { workspaces: [request.workspace] },
    clusters: request.clusters.map((c) => ({
      name: c.name,
      labels: { region: c.region, zone: c.zone, provider: c.provider },
      capacity: { cpu: c.capacity.cpu, memory: c.capacity.memory, pods: Number(c.capacity.pods) },
      readyDelayMs: request.readyDelayMs,
    })),
    kubeconfigDir: request.kubeconfigDir,
    latencyMs: request.latencyMs,
  });
  request.logger.info(`Simulator up: kcp ${sim.kcp.url}, clusters ${Object.keys(sim.clusters).join(', ')}`);
  return {
    kcpUrl: sim.kcp.url,
    clusterUrls: Object.fromEntries(Object.entries(sim.clusters).map(([name, server]) => [name, server.url])),
    handle: sim,
    setWebhookCredentials: (credentialsFor) => {
      for (const server of [sim.kcp, ...Object.values(sim.clusters)]) server.setWebhookCredentials(credentialsFor);
    },
    stop: () => sim.stop(),
  };
}
