import { downstreamNamespace } from '../../lib/api/labels';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * Issue 4: "a cordoned cluster is avoided by new work" — `spec.unschedulable` on a SyncTarget, as `kubectl cordon`
 * marks a node: what runs there stays, new namespaces go elsewhere.
 */
describe('cordoning a SyncTarget', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  async function clusterOf(namespace: string): Promise<string | undefined> {
    const ns = downstreamNamespace('root:default', namespace);
    for (const [cluster, kubeconfig] of Object.entries(stack.clusterKubeconfigs)) {
      if (await kubectlGetJson(kubeconfig, ['deployment', 'web', '-n', ns])) return cluster;
    }
    return undefined;
  }

  async function deployIn(namespace: string): Promise<string> {
    await kubectlOk(stack.kcpKubeconfig, ['create', 'namespace', namespace]);
    await kubectlOk(stack.kcpKubeconfig, ['create', 'deployment', 'web', '-n', namespace, '--image=nginx:1.27']);
    return waitFor(`web in ${namespace} on a cluster`, () => clusterOf(namespace));
  }

  it('keeps what runs on the cordoned cluster and sends no new namespace there', async () => {
    const first = await deployIn('before-cordon');
    await kubectlOk(stack.kcpKubeconfig, [
      'patch',
      'synctarget',
      first,
      '--type',
      'merge',
      '-p',
      '{"spec":{"unschedulable":true}}',
    ]);
    await stack.idle();

    // Namespaces hash over the clusters; several new ones would land on `first` without the cordon.
    const placed: string[] = [];
    for (let i = 0; i < 6; i++) placed.push(await deployIn(`after-cordon-${i}`));
    expect(placed).not.toContain(first);
    expect(await clusterOf('before-cordon')).toBe(first);
  }, 120_000);
});
