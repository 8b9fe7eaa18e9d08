import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { type Simulation, SimSnapshotSchema, startSimulation } from '../sim';
import type { WebhookCredentialsFor } from '../webhooks';
import type { LocalClusterSpec } from './clusters';
import type { Log } from '../observability/log';

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
  /** Writes the state file now (with `statePath`; a no-op without), as `stop` does. */
  save(): void;
  stop(): Promise<void>;
}

export interface SimulatorRequest {
  workspace: string;
  clusters: LocalClusterSpec[];
  /** Where the simulator may write its own kubeconfigs. */
  kubeconfigDir: string;
  logger: Log;
  /** Time a simulated workload takes to become ready (default 1 s). */
  readyDelayMs?: number;
  /** Added to every simulated API request (benchmarks use 5 ms for realistic round trips). */
  latencyMs?: number;
  /** Request log records each simulated server keeps (default 500,000). */
  requestLogLimit?: number;
  /** How long simulated Events live after their last write (default 1 hour, kube-apiserver's `--event-ttl`). */
  eventTtlMs?: number;
  /**
   * Where kcp's and the clusters' objects are kept between runs: restored on start when the file exists, written on
   * stop. Without it the simulated environment starts empty every time.
   */
  statePath?: string;
  /** Fixed ports (a restarted environment keeps the URLs its clients hold); free ones otherwise. */
  ports?: { kcp?: number; clusters?: Record<string, number> };
}

const EnvironmentSnapshotSchema = z.object({
  kcp: SimSnapshotSchema,
  clusters: z.record(z.string(), SimSnapshotSchema),
});

function restoreSnapshot(sim: Simulation, path: string, logger: Log): void {
  if (!existsSync(path)) return;
  const parsed = EnvironmentSnapshotSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    logger.warn(
      'Ignoring the saved simulator state: it is not a snapshot this version reads; run with --fresh to start clean',
      { path },
    );
    return;
  }
  let { restored, skipped } = sim.kcp.restore(parsed.data.kcp);
  for (const [name, server] of Object.entries(sim.clusters)) {
    const snapshot = parsed.data.clusters[name];
    if (!snapshot) continue;
    const counts = server.restore(snapshot);
    restored += counts.restored;
    skipped += counts.skipped;
  }
  logger.info(`Restored ${restored} simulated objects from the last run`, {
    path,
    ...(skipped > 0 ? { skipped } : {}),
  });
}

function saveSnapshot(sim: Simulation, path: string): void {
  const snapshot = {
    kcp: sim.kcp.snapshot(),
    clusters: Object.fromEntries(Object.entries(sim.clusters).map(([name, server]) => [name, server.snapshot()])),
  };
  mkdirSync(dirname(path), { recursive: true });
  // Written aside and renamed: a crash mid-write leaves the previous snapshot, never half of one.
  writeFileSync(`${path}.tmp`, JSON.stringify(snapshot));
  renameSync(`${path}.tmp`, path);
}

/** Starts lib/sim's simulation: one kcp with the workspace, and a simulated API server per cluster. */
export async function startSimulator(_projectRoot: string, request: SimulatorRequest): Promise<SimulatedEnvironment> {
  const sim: Simulation = await startSimulation({
    kcp: { workspaces: [request.workspace], port: request.ports?.kcp },
    clusters: request.clusters.map((c) => ({
      name: c.name,
      port: request.ports?.clusters?.[c.name],
      labels: { region: c.region, zone: c.zone, provider: c.provider },
      capacity: { cpu: c.capacity.cpu, memory: c.capacity.memory, pods: Number(c.capacity.pods) },
      readyDelayMs: request.readyDelayMs,
      managed: c.managed,
    })),
    kubeconfigDir: request.kubeconfigDir,
    latencyMs: request.latencyMs,
    requestLogLimit: request.requestLogLimit,
    eventTtlMs: request.eventTtlMs,
    // As kube-apiserver logs it: what the webhook would have carried (a status report, an admission) is then only
    // there for a safety net (the status backstop, watch events, the recovery sweep) to bring back.
    onWebhookFailOpen: (server, failure) =>
      request.logger.warn(`Failed calling webhook ${failure.webhook} on ${server}, failing open`, {
        server,
        ...failure,
      }),
  });
  if (request.statePath !== undefined) restoreSnapshot(sim, request.statePath, request.logger);
  request.logger.info(`Simulator up: kcp ${sim.kcp.url}, clusters ${Object.keys(sim.clusters).join(', ')}`);
  return {
    kcpUrl: sim.kcp.url,
    clusterUrls: Object.fromEntries(Object.entries(sim.clusters).map(([name, server]) => [name, server.url])),
    handle: sim,
    setWebhookCredentials: (credentialsFor) => {
      for (const server of [sim.kcp, ...Object.values(sim.clusters)]) server.setWebhookCredentials(credentialsFor);
    },
    save: () => {
      if (request.statePath !== undefined) saveSnapshot(sim, request.statePath);
    },
    stop: async () => {
      if (request.statePath !== undefined) saveSnapshot(sim, request.statePath);
      await sim.stop();
    },
  };
}
