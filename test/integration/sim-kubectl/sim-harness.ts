import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SimServer, type SimServerOptions, startSimServer } from '../../../lib/sim';
import { kubectl, kubectlOk, type KubectlResult } from '../../support/kubectl';

/** One simulated API server on a free port with a kubeconfig for the real kubectl. */
export interface SimUnderTest {
  server: SimServer;
  kubeconfig: string;
  /** A kubeconfig for another kcp logical cluster of the same server. */
  kubeconfigFor(logicalCluster: string): string;
  run(args: string[], input?: string): Promise<KubectlResult>;
  ok(args: string[], input?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startSimUnderTest(options: Partial<SimServerOptions> = {}): Promise<SimUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'tmc-sim-kubectl-'));
  const server = await startSimServer({
    name: 'conformance',
    mode: 'cluster',
    port: 0,
    ...options,
    workloads: { readyDelayMs: 200, ...options.workloads },
  });
  const kubeconfigFor = (logicalCluster: string): string => {
    const file = join(dir, `${logicalCluster.replace(/[^a-z0-9]/gi, '-')}.kubeconfig`);
    server.writeKubeconfig(file, { logicalCluster });
    return file;
  };
  const kubeconfig = options.mode === 'kcp' ? kubeconfigFor('root:default') : join(dir, 'cluster.kubeconfig');
  if (options.mode !== 'kcp') server.writeKubeconfig(kubeconfig);
  // kubectl caches discovery per server URL under the home directory: a private cache keeps runs independent.
  const cache = ['--cache-dir', join(dir, 'cache')];
  return {
    server,
    kubeconfig,
    kubeconfigFor,
    run: (args, input) => kubectl(kubeconfig, [...cache, ...args], input),
    ok: (args, input) => kubectlOk(kubeconfig, [...cache, ...args], input),
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
