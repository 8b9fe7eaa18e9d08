import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
  handle: unknown;
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
}

/** Starts lib/sim's simulation (loaded by path: the simulator is built alongside the stack). */
export async function startSimulator(projectRoot: string, request: SimulatorRequest): Promise<SimulatedEnvironment> {
  const path = join(projectRoot, 'lib', 'sim', 'index.ts');
  if (!existsSync(path)) throw new Error(`The simulator (lib/sim/index.ts) is not built yet; pass --kcp-kubeconfig to use a real kcp`);
  throw new Error(`Simulator adapter pending (${request.workspace})`);
}
