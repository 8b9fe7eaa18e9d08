import { readFileSync } from 'node:fs';
import { clusterStatusAnnotation, downstreamNamespace, stateLabel } from '../../lib/api/labels';
import { kubectl, kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * What a Karmada/kcp user tries first with a Placement, on the whole local stack through the real kubectl:
 * admission denies an invalid one, two clusters by region with divided replicas and per-cluster overrides, status
 * aggregated from both, `kubectl get placements`, a cluster dropped by a Placement change, delete everywhere.
 */
describe('Placement end to end', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ws = 'root:default';
  const ns = downstreamNamespace(ws, 'web');

  beforeAll(async () => {
    stack = await startE2eStack();
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: web, labels: { team: web } }\n',
    );
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const onCluster = (cluster: string, args: string[]): Promise<Record<string, any> | undefined> =>
    kubectlGetJson(stack.clusterKubeconfigs[cluster], args);

  it('denies an invalid Placement at kubectl apply, naming the field', async () => {
    const bad = [
      'apiVersion: scheduling.kcp.io/v1alpha1',
      'kind: Placement',
      'metadata: { name: bad }',
      'spec:',
      '  replicas: { mode: Duplicated, weights: [{ cluster: east, weight: 1 }] }',
      '',
    ].join('\n');
    const r = await kubectl(stack.kcpKubeconfig, ['apply', '-f', '-'], bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/denied/);
    expect(r.stderr).toContain('spec.replicas.mode');
    expect(await kubectlGetJson(stack.kcpKubeconfig, ['placement', 'bad'])).toBeUndefined();
  });

  it('runs a Deployment on the two US clusters, divides replicas by weight, applies overrides and aggregates status', async () => {
    await kubectlOk(stack.kcpKubeconfig, [
      'apply',
      '-f',
      'examples/multi-cluster-deployment/placement-two-regions.yaml',
    ]);
    const nginx = readFileSync('examples/basic-setup/nginx.yaml', 'utf8').replace(
      'namespace: default',
      'namespace: web',
    );
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], nginx);
    // examples/basic-setup/nginx.yaml has 2 replicas; scale to 3 so the 2:1 weights are visible.
    await kubectlOk(stack.kcpKubeconfig, ['scale', 'deployment', 'nginx', '-n', 'web', '--replicas=3']);

    const east = await waitFor('nginx with 2 replicas on east', async () => {
      const d = await onCluster('east', ['deployment', 'nginx', '-n', ns]);
      return d?.spec.replicas === 2 ? d : undefined;
    });
    const west = await waitFor('nginx with 1 replica on west', async () => {
      const d = await onCluster('west', ['deployment', 'nginx', '-n', ns]);
      return d?.spec.replicas === 1 ? d : undefined;
    });
    expect(await onCluster('edge', ['deployment', 'nginx', '-n', ns])).toBeUndefined();
    // Overrides on west: image mirror, an env var and a label.
    expect(west.spec.template.spec.containers[0].image).toBe('mirror.us-west-2.example.com/nginx:1.27');
    expect(west.spec.template.spec.containers[0].env).toEqual(
      expect.arrayContaining([{ name: 'REGION', value: 'us-west-2' }]),
    );
    expect(west.metadata.labels.mirror).toBe('us-west-2');
    expect(east.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    expect(east.metadata.labels.mirror).toBeUndefined();
    expect(east.spec.minReadySeconds).toBe(5); // east's JSON patch
    expect(west.spec.minReadySeconds).toBeUndefined();

    let seen: unknown;
    const upstream = await waitFor('readyReplicas 3 in kcp', async () => {
      const d = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'web']);
      seen = { status: d?.status, annotations: d?.metadata.annotations };
      return d?.status?.readyReplicas === 3 ? d : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; kcp object: ${JSON.stringify(seen)}`);
    });
    expect(upstream.metadata.labels[stateLabel(ws, 'east')]).toBe('Sync');
    expect(upstream.metadata.labels[stateLabel(ws, 'west')]).toBe('Sync');
    const detail = JSON.parse(upstream.metadata.annotations[clusterStatusAnnotation(ws, 'west')]);
    expect(detail).toMatchObject({ cluster: 'west', state: 'applied' });
    expect(detail.status.readyReplicas).toBe(1);

    const table = await kubectlOk(stack.kcpKubeconfig, ['get', 'placements']);
    expect(table).toMatch(/CLUSTERS\s+PHASE/);
    expect(table).toMatch(/two-regions\s+east,west\s+Scheduled/);
  });

  it('deletes the object on a cluster a Placement change drops', async () => {
    await kubectlOk(stack.kcpKubeconfig, [
      'patch',
      'placement',
      'two-regions',
      '--type=merge',
      '-p',
      '{"spec":{"clusterConstraints":{"regions":["us-east-1"]}}}',
    ]);
    await waitFor(
      'nginx gone from west',
      async () => (await onCluster('west', ['deployment', 'nginx', '-n', ns])) === undefined,
    );
    const east = await waitFor('all 3 replicas on east', async () => {
      const d = await onCluster('east', ['deployment', 'nginx', '-n', ns]);
      return d?.spec.replicas === 3 ? d : undefined;
    });
    expect(east.spec.replicas).toBe(3);
    // The namespace goes with its last synced object.
    await waitFor('namespace gone from west', async () => (await onCluster('west', ['namespace', ns])) === undefined);
  });

  it('delete in kcp removes it everywhere, releases the finalizer and the downstream namespace', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'deployment', 'nginx', '-n', 'web', '--wait=false']);
    await waitFor(
      'nginx gone from kcp',
      async () => (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'web'])) === undefined,
    );
    for (const cluster of Object.keys(stack.clusterKubeconfigs)) {
      expect(await onCluster(cluster, ['deployment', 'nginx', '-n', ns])).toBeUndefined();
    }
    await waitFor('namespace gone from east', async () => (await onCluster('east', ['namespace', ns])) === undefined);
  });
});
