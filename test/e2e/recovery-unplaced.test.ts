import { downstreamNamespace } from '../../lib/api/labels';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };

/**
 * The fail-open webhook's promise (docs/webhooks.md): a write kcp stored without its placement message (the queue
 * did not answer in time, tmc was down) is placed by the next recovery sweep. The lost admission is an object put
 * straight into the simulated kcp's store, below admission: no webhook call, no message.
 */
describe('recovery: an object whose admission never reached the queue is placed by the sweep', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ns = downstreamNamespace('root:default', 'default');
  const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
  const grace = process.env.TMC_RECOVERY_UNPLACED_GRACE_SECONDS;

  beforeAll(async () => {
    // The object is written a moment before the sweep runs: no grace for an admission message still on its way.
    process.env.TMC_RECOVERY_UNPLACED_GRACE_SECONDS = '0';
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
    if (grace === undefined) delete process.env.TMC_RECOVERY_UNPLACED_GRACE_SECONDS;
    else process.env.TMC_RECOVERY_UNPLACED_GRACE_SECONDS = grace;
  });

  const sweep = async (): Promise<Record<string, number>> => {
    const report = (await stack.invoke('recovery-sweep', scheduled)) as {
      actions: Record<string, number>;
      failures: string[];
    };
    expect(report.failures).toEqual([]);
    await stack.idle();
    return report.actions;
  };
  const runningOn = async (kind: string, name: string): Promise<string[]> => {
    const found: string[] = [];
    for (const c of Object.keys(stack.clusterKubeconfigs))
      if (await kubectlGetJson(stack.clusterKubeconfigs[c], [kind, name, '-n', ns])) found.push(c);
    return found;
  };

  it('places a Deployment kcp stored without admission, and leaves placed objects alone', async () => {
    const sim = stack.simulation;
    if (!sim) throw new Error('The e2e stack runs the simulator');
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: placed, namespace: default }\ndata: { k: v }\n',
    );
    await waitFor('the placed ConfigMap on a cluster', async () => (await runningOn('configmap', 'placed')).length > 0);
    await stack.idle();
    // Placed and unchanged: nothing to ask placement about.
    expect(await sweep()).toEqual({});

    sim.kcp.store('root:default').create(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'lost', namespace: 'default', labels: { app: 'lost' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'lost' } },
        template: { metadata: { labels: { app: 'lost' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    });
    await stack.idle();
    expect(await runningOn('deployment', 'lost')).toEqual([]); // nothing else would ever place it

    expect(await sweep()).toEqual({ 'resync-unplaced:enqueued': 1 });
    const clusters = await waitFor('the lost Deployment applied on a cluster', async () => {
      const on = await runningOn('deployment', 'lost');
      return on.length > 0 ? on : undefined;
    });
    expect(clusters.length).toBeGreaterThan(0);
    const placed = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'lost', '-n', 'default']);
    expect(Object.keys(placed?.metadata?.labels ?? {}).some((k) => k.startsWith('state.workload.kcp.io/'))).toBe(true);

    // Placed now: the next sweep asks nothing more.
    await stack.idle();
    expect(await sweep()).toEqual({});
  });
});
