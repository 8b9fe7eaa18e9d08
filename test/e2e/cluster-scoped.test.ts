import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * A cluster-scoped kind follows the workspace's work unless a Placement's objectSelectors name it (then that Placement
 * decides). With no namespaced work in the workspace, a ClusterRole no Placement names stays in kcp only.
 */
describe('cluster-scoped kinds', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  async function clustersWith(name: string): Promise<string[]> {
    const found: string[] = [];
    for (const [cluster, kubeconfig] of Object.entries(stack.clusterKubeconfigs)) {
      if (await kubectlGetJson(kubeconfig, ['clusterrole', name])) found.push(cluster);
    }
    return found.sort();
  }

  it('syncs a ClusterRole where a Placement naming its kind says, none without work, and removes it on delete', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['create', 'clusterrole', 'unplaced-reader', '--verb=get', '--resource=pods']);
    await stack.idle();
    expect(await clustersWith('unplaced-reader')).toEqual([]);

    const placement = {
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'cluster-roles' },
      spec: {
        objectSelectors: [{ group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' }],
        clusterConstraints: { regions: ['us-east-1', 'us-west-2'] },
      },
    };
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], JSON.stringify(placement));
    await kubectlOk(stack.kcpKubeconfig, ['create', 'clusterrole', 'pod-reader', '--verb=get,list', '--resource=pods']);
    await waitFor(
      'pod-reader on east and west',
      async () => JSON.stringify(await clustersWith('pod-reader')) === JSON.stringify(['east', 'west']),
    );
    const downstream = await kubectlGetJson(stack.clusterKubeconfigs.east, ['clusterrole', 'pod-reader']);
    expect(downstream?.rules?.[0]?.verbs).toEqual(['get', 'list']);

    await kubectlOk(stack.kcpKubeconfig, ['delete', 'clusterrole', 'pod-reader']);
    await waitFor('pod-reader gone from the clusters', async () => (await clustersWith('pod-reader')).length === 0);
  }, 90_000);
});
