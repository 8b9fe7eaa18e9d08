import { readFileSync } from 'node:fs';
import { downstreamNamespace, stateLabel } from '../../lib/api/labels';
import { APIS_WEBHOOK, WORKLOADS_WEBHOOK } from '../../lib/webhooks/configurations';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * SyncTargets coming and going, on the whole local stack: a deleted SyncTarget's workloads drain to the other
 * clusters (told by the fail-open DELETE webhook); a SyncTarget created, or deleted, while tmc's webhooks were not
 * installed is noticed by health-probe's periodic comparison of kcp with placement's mirror.
 */
describe('SyncTargets deleted or created without tmc noticing', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ws = 'root:default';
  const ns = downstreamNamespace(ws, 'default');

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  async function clustersRunning(name: string, namespace = ns): Promise<string[]> {
    const found: string[] = [];
    for (const [cluster, kubeconfig] of Object.entries(stack.clusterKubeconfigs)) {
      if (await kubectlGetJson(kubeconfig, ['deployment', name, '-n', namespace])) found.push(cluster);
    }
    return found;
  }

  let drained = '';
  let saved: Record<string, any> = {};

  it('drains the workloads of a deleted SyncTarget to another cluster', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', 'examples/basic-setup/nginx.yaml']);
    const [first] = await waitFor('nginx on a cluster', async () => {
      const c = await clustersRunning('nginx');
      return c.length === 1 ? c : undefined;
    });
    drained = first;
    saved = (await kubectlGetJson(stack.kcpKubeconfig, ['synctarget', drained])) ?? {};

    // The fail-open DELETE webhook tells placement at once: no health probe runs here.
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'synctarget', drained]);
    const upstream = await waitFor('nginx labelled for another cluster in kcp', async () => {
      const d = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'default']);
      const labels: Record<string, string> = d?.metadata.labels ?? {};
      return labels[stateLabel(ws, drained)] === undefined &&
        Object.keys(labels).some((k) => k.startsWith('state.workload.kcp.io/'))
        ? d
        : undefined;
    });
    const now = await waitFor('nginx on a remaining cluster', async () => {
      const c = (await clustersRunning('nginx')).filter((x) => x !== drained);
      return c.length === 1 ? c : undefined;
    });
    expect(upstream.metadata.labels[stateLabel(ws, now[0])]).toBe('Sync');
    await waitFor('readyReplicas 2 in kcp from the new cluster', async () => {
      const d = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'default']);
      return d?.status?.readyReplicas === 2;
    });
  });

  it('deleting the workload afterwards is not blocked by the cluster that is gone', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'deployment', 'nginx', '-n', 'default', '--wait=false']);
    await waitFor(
      'nginx gone from kcp',
      async () => (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'default'])) === undefined,
    );
    expect((await clustersRunning('nginx')).filter((c) => c !== drained)).toEqual([]);
  });

  it('mirrors a SyncTarget that was created while the webhooks were not installed', async () => {
    // Both of tmc's kcp webhooks see SyncTargets (tmc-workloads sees every cluster-scoped write): remove both.
    const webhook = await kubectlGetJson(stack.kcpKubeconfig, ['validatingwebhookconfiguration', APIS_WEBHOOK]);
    const workloads = await kubectlGetJson(stack.kcpKubeconfig, ['mutatingwebhookconfiguration', WORKLOADS_WEBHOOK]);
    expect(webhook).toBeDefined();
    expect(workloads).toBeDefined();
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'validatingwebhookconfiguration', APIS_WEBHOOK]);
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'mutatingwebhookconfiguration', WORKLOADS_WEBHOOK]);
    await kubectlOk(stack.kcpKubeconfig, ['create', '-f', '-'], JSON.stringify(strip(saved)));
    await kubectlOk(stack.kcpKubeconfig, ['create', '-f', '-'], JSON.stringify(strip(webhook!)));
    await kubectlOk(stack.kcpKubeconfig, ['create', '-f', '-'], JSON.stringify(strip(workloads!)));

    // A Placement that only the re-created cluster satisfies: nothing can run until tmc knows about it.
    const region = String(saved.metadata.labels.region);
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      `apiVersion: v1\nkind: Namespace\nmetadata: { name: pinned, labels: { pin: "yes" } }\n---\napiVersion: scheduling.kcp.io/v1alpha1\nkind: Placement\nmetadata: { name: pinned }\nspec:\n  namespaceSelector: { matchLabels: { pin: "yes" } }\n  clusterConstraints: { regions: [${region}] }\n`,
    );
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      readFileSync('examples/basic-setup/nginx.yaml', 'utf8').replace('namespace: default', 'namespace: pinned'),
    );
    await stack.idle();
    expect(await clustersRunning('nginx', downstreamNamespace(ws, 'pinned'))).toEqual([]);

    await stack.runSchedule('health-probe');
    await waitFor(`nginx on ${drained}`, async () =>
      (await clustersRunning('nginx', downstreamNamespace(ws, 'pinned'))).includes(drained),
    );
  });

  it('drains a SyncTarget deleted while the webhooks were not installed at the next health probe', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'validatingwebhookconfiguration', APIS_WEBHOOK]);
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'mutatingwebhookconfiguration', WORKLOADS_WEBHOOK]);
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'synctarget', drained]);
    await stack.idle();
    const placed = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'pinned']);
    expect(placed?.metadata.labels[stateLabel(ws, drained)]).toBe('Sync'); // nothing told tmc yet

    await stack.runSchedule('health-probe');
    await waitFor(`nginx no longer placed on ${drained}`, async () => {
      const d = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'pinned']);
      return d !== undefined && d.metadata.labels[stateLabel(ws, drained)] === undefined;
    });
    const placement = await waitFor('Placement pinned Unschedulable', async () => {
      const p = await kubectlGetJson(stack.kcpKubeconfig, ['placement', 'pinned']);
      return p?.status?.phase === 'Unschedulable' ? p : undefined;
    });
    expect(placement.status.conditions.find((c: { type: string }) => c.type === 'Scheduled')).toMatchObject({
      status: 'False',
    });
  });
});

/** An object as a user would create it again: without what the server assigned (and without status). */
function strip(object: Record<string, any>): Record<string, any> {
  const {
    uid: _u,
    resourceVersion: _r,
    creationTimestamp: _c,
    generation: _g,
    managedFields: _m,
    ...metadata
  } = object.metadata;
  const { status: _s, ...rest } = object;
  return { ...rest, metadata };
}
