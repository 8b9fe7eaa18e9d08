import { downstreamNamespace } from '../../lib/api/labels';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * `functionThreads: true` through the real path: kubectl → kcp → admission webhook → ingress → placement → sync-apply
 * → cluster → status webhook → status-up → kcp, with those four functions each in a worker thread of its own, and
 * their counters at /metrics (served by the api function on the main thread, from the registry they forward to).
 */

function invocations(exposition: string, fn: string): number {
  const line = exposition
    .split('\n')
    .find((l) => l.startsWith(`tmc_function_invocations_total{function="${fn}",result="ok"} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('functions in worker threads, end to end', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;

  beforeAll(async () => {
    stack = await startE2eStack({ functionThreads: true });
    await stack.idle();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  async function scrape(): Promise<string> {
    const res = await fetch(`${stack.apiUrl}/metrics`, { headers: { authorization: `Bearer ${stack.webhookToken}` } });
    expect(res.status).toBe(200);
    return res.text();
  }

  it('places, applies and brings status back with ingress, placement, sync-apply and status-up in threads', async () => {
    const before = await scrape();
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', 'examples/basic-setup/nginx.yaml']);
    await waitFor(
      'readyReplicas 2 in kcp',
      async () =>
        (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'default']))?.status?.readyReplicas ===
        2,
    );
    const applied = await Promise.all(
      Object.keys(stack.clusterKubeconfigs).map((c) =>
        kubectlGetJson(stack.clusterKubeconfigs[c], [
          'deployment',
          'nginx',
          '-n',
          downstreamNamespace('root:default', 'default'),
        ]),
      ),
    );
    expect(applied.filter((d) => d?.spec?.replicas === 2).length).toBeGreaterThanOrEqual(1);
    await stack.idle();

    expect(stack.threadedFunctions().sort()).toEqual(['ingress', 'placement', 'status-up', 'sync-apply']);
    const after = await scrape();
    for (const fn of ['ingress', 'placement', 'sync-apply', 'status-up'])
      expect(invocations(after, fn)).toBeGreaterThan(invocations(before, fn));
  });

  it('runs the status backstop in the status-up thread, its invocation counted at /metrics when it returns', async () => {
    const before = invocations(await scrape(), 'status-up');
    await stack.runSchedule('status-backstop');
    expect(invocations(await scrape(), 'status-up')).toBe(before + 1);
    expect(stack.threadedFunctions()).toContain('status-up');
  });
});
