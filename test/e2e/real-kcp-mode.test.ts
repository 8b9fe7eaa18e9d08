import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downstreamNamespace } from '../../lib/api/labels';
import { statePaths } from '../../lib/local/paths';
import { startSimulation, type Simulation } from '../../lib/sim';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * `tmc dev --kcp-kubeconfig … --cluster NAME=KUBECONFIG`: the same stack against a kcp and clusters it did not start.
 * Here they are simulator servers started apart from the stack, reached only through their kubeconfig files — as a
 * real kcp and real clusters would be. Their admission plugin presents the token a kube-apiserver would read from
 * its admission kubeconfig.
 */
describe('the local stack against an external kcp and clusters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tmc-external-'));
  const token = 'external-token-0123456789abcdef';
  let external: Simulation;
  let stack: Awaited<ReturnType<typeof startE2eStack>>;

  beforeAll(async () => {
    external = await startSimulation({
      kcp: { workspaces: ['root:org:team'] },
      clusters: [{ name: 'prod-1', readyDelayMs: 100 }],
      kubeconfigDir: join(dir, 'external'),
    });
    const kubeconfigs = external.kubeconfigs;
    if (!kubeconfigs) throw new Error('the simulation wrote no kubeconfigs');
    // As an admission kubeconfig whose user is `*`: the token goes to every webhook (tmc's API port is not known yet).
    for (const server of [external.kcp, ...Object.values(external.clusters)])
      server.setWebhookCredentials(() => ({ token }));
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(statePaths(stateDir).webhookToken, `${token}\n`, { flag: 'w' });
    stack = await startE2eStack({
      stateDir,
      fresh: false,
      workspace: 'root:org:team',
      kcpKubeconfig: kubeconfigs.kcp,
      clusterKubeconfigs: { 'prod-1': kubeconfigs.clusters['prod-1'] },
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
    await external?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the named cluster, places a Deployment on it and brings its status back', async () => {
    const kcp = external.kubeconfigs?.kcp ?? '';
    expect((await kubectlOk(kcp, ['get', 'synctargets', '-o', 'name'])).trim()).toBe(
      'synctarget.workload.kcp.io/prod-1',
    );
    await kubectlOk(kcp, ['apply', '-f', 'examples/basic-setup/nginx.yaml']);
    const ns = downstreamNamespace('root:org:team', 'default');
    await waitFor('nginx on prod-1', () =>
      kubectlGetJson(external.kubeconfigs?.clusters['prod-1'] ?? '', ['deployment', 'nginx', '-n', ns]),
    );
    await waitFor(
      'readyReplicas 2 in kcp',
      async () => (await kubectlGetJson(kcp, ['deployment', 'nginx', '-n', 'default']))?.status?.readyReplicas === 2,
    );
  });
});
