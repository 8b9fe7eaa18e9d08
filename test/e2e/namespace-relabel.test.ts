import { downstreamNamespace } from '../../lib/api/labels';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * kcp TMC's way to schedule: label the namespace. A namespace whose new labels match a Placement moves there with
 * everything in it, through the real path (the namespace UPDATE reaches tmc's webhook).
 */
describe('relabelling a namespace re-places it and its objects', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ns = downstreamNamespace('root:default', 'team-a');

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  async function runningOn(): Promise<string[]> {
    const found: string[] = [];
    for (const [cluster, kubeconfig] of Object.entries(stack.clusterKubeconfigs)) {
      if (await kubectlGetJson(kubeconfig, ['deployment', 'web', '-n', ns])) found.push(cluster);
    }
    return found.sort();
  }

  it('places the Deployment on the clusters of the Placement its namespace now matches', async () => {
    await kubectlOk(stack.kcpKubeconfig, [
      'apply',
      '-f',
      'examples/multi-cluster-deployment/placement-two-regions.yaml',
    ]);
    await kubectlOk(stack.kcpKubeconfig, ['create', 'namespace', 'team-a']);
    await kubectlOk(stack.kcpKubeconfig, [
      'create',
      'deployment',
      'web',
      '-n',
      'team-a',
      '--image=nginx:1.27',
      '--replicas=3',
    ]);
    // The workspace has a Placement and team-a matches none: placed nowhere, with the reason recorded.
    await waitFor(
      'web placed nowhere',
      async () =>
        (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'web', '-n', 'team-a']))?.metadata?.finalizers
          ?.length > 0,
    );
    await stack.idle();
    expect(await runningOn()).toEqual([]);

    await kubectlOk(stack.kcpKubeconfig, ['label', 'namespace', 'team-a', 'team=web']);
    await waitFor(
      'web on east and west',
      async () => JSON.stringify(await runningOn()) === JSON.stringify(['east', 'west']),
      { timeoutMs: 45_000 },
    );
    const east = await kubectlGetJson(stack.clusterKubeconfigs.east, ['deployment', 'web', '-n', ns]);
    const west = await kubectlGetJson(stack.clusterKubeconfigs.west, ['deployment', 'web', '-n', ns]);
    expect([east?.spec.replicas, west?.spec.replicas]).toEqual([2, 1]); // Divided 2:1
  }, 90_000);

  it('deletes an object that runs nowhere: its tmc finalizer is released', async () => {
    // With a Placement in the workspace, namespace `unplaced` (no team label) matches none: nothing to clean anywhere.
    await kubectlOk(stack.kcpKubeconfig, [
      'apply',
      '-f',
      'examples/multi-cluster-deployment/placement-two-regions.yaml',
    ]);
    await kubectlOk(stack.kcpKubeconfig, ['create', 'namespace', 'unplaced']);
    await kubectlOk(stack.kcpKubeconfig, ['create', 'configmap', 'settings', '-n', 'unplaced', '--from-literal=a=b']);
    await waitFor(
      'the finalizer on settings',
      async () =>
        (await kubectlGetJson(stack.kcpKubeconfig, ['configmap', 'settings', '-n', 'unplaced']))?.metadata?.finalizers
          ?.length > 0,
    );
    await stack.idle();
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'configmap', 'settings', '-n', 'unplaced', '--wait=false']);
    await waitFor(
      'settings gone from kcp',
      async () =>
        (await kubectlGetJson(stack.kcpKubeconfig, ['configmap', 'settings', '-n', 'unplaced'])) === undefined,
    );
  }, 60_000);
});
