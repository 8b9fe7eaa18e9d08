import { z } from 'zod';
import { downstreamNamespace } from '../../lib/api/labels';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

const ClusterReportSchema = z.looseObject({ state: z.string().optional(), reason: z.string().optional() });

/**
 * Issue 6: "a sync failure that classifies as cluster-unreachable feeds the cluster's health at once, so failover
 * does not wait for the next probe". No schedule runs here: only sync-apply's failures can turn the cluster Unhealthy.
 */
describe('sync-apply reports an unreachable cluster to health at once', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ns = downstreamNamespace('root:default', 'default');

  beforeAll(async () => {
    stack = await startE2eStack({ schedules: false });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  async function clusterHealth(name: string): Promise<{ state?: string; reason?: string } | undefined> {
    const response = await fetch(`${stack.apiUrl}/health/clusters/${name}`, {
      headers: { authorization: `Bearer ${stack.webhookToken}` },
    });
    if (!response.ok) return undefined;
    return ClusterReportSchema.parse(await response.json());
  }

  it('turns the cluster Unhealthy from sync failures alone', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', 'examples/basic-setup/nginx.yaml']);
    const cluster = await waitFor('nginx on a cluster', async () => {
      for (const [name, kubeconfig] of Object.entries(stack.clusterKubeconfigs)) {
        if (await kubectlGetJson(kubeconfig, ['deployment', 'nginx', '-n', ns])) return name;
      }
      return undefined;
    });
    expect((await clusterHealth(cluster))?.state).not.toBe('Unhealthy');

    const sim = stack.simulation;
    if (!sim) throw new Error('the stack runs no simulator');
    sim.clusters[cluster].faults.set({ down: true });
    // Each change is one more sync attempt against the dead cluster.
    for (const replicas of [3, 4, 5])
      await kubectlOk(stack.kcpKubeconfig, ['scale', 'deployment', 'nginx', `--replicas=${replicas}`]);
    const health = await waitFor(
      `${cluster} Unhealthy from sync failures`,
      async () => {
        const h = await clusterHealth(cluster);
        return h?.state === 'Unhealthy' ? h : undefined;
      },
      { timeoutMs: 45_000 },
    );
    expect(JSON.stringify(health)).toContain('SyncUnreachable');
    sim.clusters[cluster].faults.set({ down: false });
  }, 90_000);
});
