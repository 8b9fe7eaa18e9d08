import { downstreamNamespace, stateLabel } from '../../lib/api/labels';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';
import { deployment } from '../support/builders';

const PLACEMENTS = `
apiVersion: scheduling.kcp.io/v1alpha1
kind: Placement
metadata: { name: failover }
spec:
  objectSelectors: [{ group: apps, kind: Deployment, labelSelector: { matchLabels: { app: web } } }]
  numberOfClusters: 1
  clusterConstraints: { providers: [aws] }
  affinity: { preferred: [{ weight: 100, preference: { matchLabels: { region: us-east-1 } } }] }
---
apiVersion: scheduling.kcp.io/v1alpha1
kind: Placement
metadata: { name: pinned-west }
spec:
  objectSelectors: [{ group: apps, kind: Deployment, labelSelector: { matchLabels: { app: other } } }]
  numberOfClusters: 1
  clusterConstraints: { regions: [us-west-2] }
`;

function deploymentJson(name: string): string {
  return JSON.stringify(deployment(name, { labels: { app: name }, replicas: 2, container: name }));
}

/**
 * Issue 6's failover on the whole local stack: `east` stops answering, health-probe turns its SyncTarget Ready=False,
 * the recovery sweep moves its work to a healthy cluster within the Placement, and once `east` is back the copy left
 * there is removed — with nothing else touched.
 */
describe('recovery: failover of a cluster that goes down, and cleanup when it returns', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ns = downstreamNamespace('root:default', 'default');
  const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const probe = async (): Promise<void> => {
    await stack.invoke('health-probe', scheduled);
    await stack.idle();
  };
  const sweep = async (): Promise<Record<string, number>> => {
    const report = (await stack.invoke('recovery-sweep', scheduled)) as {
      actions: Record<string, number>;
      failures: string[];
    };
    expect(report.failures).toEqual([]);
    await stack.idle();
    return report.actions;
  };
  const readyCondition = async (cluster: string): Promise<string | undefined> => {
    const st = await kubectlGetJson(stack.kcpKubeconfig, ['synctarget', cluster]);
    return st?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status;
  };
  const runningOn = async (name: string, clusters: string[]): Promise<string[]> => {
    const found: string[] = [];
    for (const c of clusters)
      if (await kubectlGetJson(stack.clusterKubeconfigs[c], ['deployment', name, '-n', ns])) found.push(c);
    return found;
  };

  it('moves web off a stopped east, keeps its copy until west is ready, and removes it once east is back', async () => {
    const sim = stack.simulation;
    if (!sim) throw new Error('The e2e stack runs the simulator');
    await kubectlOk(stack.kcpKubeconfig, [
      'patch',
      'synctarget',
      'east',
      '--type',
      'merge',
      '-p',
      '{"spec":{"evictAfter":"0s"}}',
    ]);
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], PLACEMENTS);
    await stack.idle();
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], deploymentJson('web'));
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], deploymentJson('other'));
    await waitFor(
      'web ready in kcp',
      async () =>
        (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'web', '-n', 'default']))?.status?.readyReplicas ===
        2,
    );
    await waitFor(
      'other ready in kcp',
      async () =>
        (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'other', '-n', 'default']))?.status?.readyReplicas ===
        2,
    );
    expect(await runningOn('web', ['east', 'west', 'edge'])).toEqual(['east']);
    expect(await runningOn('other', ['east', 'west', 'edge'])).toEqual(['west']);
    const otherBefore = await kubectlGetJson(stack.clusterKubeconfigs.west, ['deployment', 'other', '-n', ns]);

    // east stops answering: three failed probes make it Unhealthy, and kcp shows Ready=False.
    sim.clusters.east.faults.set({ down: true });
    for (let i = 0; i < 3; i++) await probe();
    expect(await readyCondition('east')).toBe('False');
    expect(await readyCondition('west')).toBe('True');
    sim.clusters.west.requests.reset();

    const failover = await sweep();
    expect(failover['failover:enqueued']).toBe(1); // web only: other never ran on east
    const moved = await waitFor('web ready on west in kcp', async () => {
      const d = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'web', '-n', 'default']);
      return d?.status?.readyReplicas === 2 && d.metadata.labels[stateLabel('root:default', 'west')] === 'Sync'
        ? d
        : undefined;
    });
    expect(moved.metadata.labels[stateLabel('root:default', 'east')]).toBeUndefined();
    expect(await runningOn('web', ['west', 'edge'])).toEqual(['west']); // within the Placement: aws only
    // east is still down: its copy cannot be removed and is not forgotten.
    expect((await sweep())['cleanup:sent']).toBeUndefined();
    expect(
      sim.clusters.east.store().get({ group: 'apps', version: 'v1', resource: 'deployments' }, ns, 'web'),
    ).toBeDefined();

    // east returns: the copy that moved away is removed from it; nothing moves back.
    sim.clusters.east.faults.clear();
    await probe();
    expect(await readyCondition('east')).toBe('True');
    expect((await sweep())['cleanup:sent']).toBe(1);
    expect((await sweep())['cleanup:succeeded']).toBe(1);
    expect(await runningOn('web', ['east', 'west', 'edge'])).toEqual(['west']);
    expect(await runningOn('other', ['east', 'west', 'edge'])).toEqual(['west']);

    // Nothing else touched: other was never written on west during the whole recovery.
    expect(sim.clusters.west.requests.count({ writes: true, name: 'other' })).toBe(0);
    const otherAfter = await kubectlGetJson(stack.clusterKubeconfigs.west, ['deployment', 'other', '-n', ns]);
    expect(otherAfter?.metadata.resourceVersion).toBe(otherBefore?.metadata.resourceVersion);
    // A further sweep finds nothing to do.
    expect(await sweep()).toEqual({});
  });
});
