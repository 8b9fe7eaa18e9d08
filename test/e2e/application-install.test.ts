import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLUSTER_STATUS_ANNOTATION_PREFIX, downstreamNamespace } from '../../lib/api/labels';
import { kubectl, kubectlGetJson, kubectlOk } from '../support/kubectl';
import * as build from '../support/builders';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * Issue 17: a multi-kind application install with cluster-scoped kinds and no Placement at all. Every object reaches
 * each cluster that runs the workspace's namespaced work, the ClusterRoleBinding's subject names the downstream
 * namespace, status comes back, `kubectl describe` shows tmc's Events, and `kubectl delete -f` removes everything
 * everywhere.
 */
describe('an application install with cluster-scoped kinds and no Placement', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  let dir: string;

  beforeAll(async () => {
    stack = await startE2eStack();
    dir = mkdtempSync(join(tmpdir(), 'tmc-install-'));
  });
  afterAll(async () => {
    await stack?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const namespaces = ['shop', 'billing', 'search'];
  const crd = build.widgetCrd();
  const rest = [
    ...namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    ...namespaces.map((namespace) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { serviceAccountName: 'default', containers: [{ name: 'web', image: 'nginx:1.27' }] },
        },
      },
    })),
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'gadget', namespace: 'shop' },
      spec: { size: 3 },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'widget-reader' },
      rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'widget-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'widget-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'shop' }],
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'fast' },
      provisioner: 'example.com/fast',
      reclaimPolicy: 'Delete',
    },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'shared-data' },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'fast',
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: '/data/shared' },
      },
    },
  ];

  async function present(kubeconfig: string, args: string[]): Promise<boolean> {
    const r = await kubectl(kubeconfig, ['get', ...args, '-o', 'name']);
    if (r.code === 0) return true;
    if (/NotFound|not found|doesn't have a resource type/.test(r.stderr)) return false;
    throw new Error(`kubectl get ${args.join(' ')} failed: ${r.stderr}`);
  }

  const clusterScoped = [
    ['crd', 'widgets.example.com'],
    ['clusterrole', 'widget-reader'],
    ['clusterrolebinding', 'widget-reader'],
    ['storageclass', 'fast'],
    ['persistentvolume', 'shared-data'],
  ];

  it('reaches every cluster running the work, with namespaces rewritten, and is removed by kubectl delete -f', async () => {
    const crdFile = join(dir, 'crd.json');
    const restFile = join(dir, 'app.json');
    writeFileSync(crdFile, JSON.stringify(crd));
    writeFileSync(restFile, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rest }));
    // CRDs first, then the rest, as users do (one apply of both fails on a real API server too).
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', crdFile]);
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', restFile]);

    const shop = downstreamNamespace(stack.workspace, 'shop');
    const expected = await waitFor(
      'every Deployment placed',
      async () => {
        // One scan for both: where the Deployments run and how many there are.
        const where = new Set<string>();
        let placed = 0;
        for (const [cluster, kubeconfig] of Object.entries(stack.clusterKubeconfigs)) {
          for (const ns of namespaces)
            if (await present(kubeconfig, ['deployment', 'web', '-n', downstreamNamespace(stack.workspace, ns)])) {
              placed++;
              where.add(cluster);
            }
        }
        return placed === namespaces.length && [...where].sort();
      },
      { timeoutMs: 60_000 },
    );
    expect(expected.length).toBeGreaterThan(0);

    await waitFor(
      'every cluster-scoped object on every cluster running the work, and nowhere else',
      async () => {
        const wrong: string[] = [];
        for (const [cluster, kubeconfig] of Object.entries(stack.clusterKubeconfigs)) {
          for (const [kind, name] of clusterScoped)
            if ((await present(kubeconfig, [kind, name])) !== expected.includes(cluster))
              wrong.push(`${kind}/${name} ${expected.includes(cluster) ? 'missing on' : 'present on'} ${cluster}`);
        }
        if (wrong.length) throw new Error(wrong.join('; '));
        return true;
      },
      { timeoutMs: 60_000 },
    );

    const shopCluster = await waitFor(
      'the Widget downstream',
      async () => {
        const seen: string[] = [];
        for (const [cluster, kubeconfig] of Object.entries(stack.clusterKubeconfigs)) {
          const r = await kubectl(kubeconfig, ['get', 'widgets.example.com', 'gadget', '-n', shop, '-o', 'name']);
          if (r.code === 0) return cluster;
          seen.push(`${cluster}: ${r.stderr.trim()}`);
        }
        throw new Error(seen.join('; '));
      },
      { timeoutMs: 60_000 },
    );
    expect(expected).toContain(shopCluster);
    const widget = await kubectlGetJson(stack.clusterKubeconfigs[shopCluster], ['widget', 'gadget', '-n', shop]);
    expect(widget?.spec).toEqual({ size: 3 });

    const binding = await kubectlGetJson(stack.clusterKubeconfigs[expected[0]], [
      'clusterrolebinding',
      'widget-reader',
    ]);
    expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'default', namespace: shop }]);
    const sc = await kubectlGetJson(stack.clusterKubeconfigs[expected[0]], ['storageclass', 'fast']);
    expect(sc?.provisioner).toBe('example.com/fast');

    // Status comes back where the kind has status: each Deployment's READY, and the PersistentVolume's sync summary.
    for (const ns of namespaces)
      await waitFor(
        `READY 1/1 for ${ns}/web in kcp`,
        async () =>
          (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'web', '-n', ns]))?.status?.readyReplicas === 1,
        { timeoutMs: 90_000 },
      );
    // A PersistentVolume's status has no conditions (kube-apiserver drops them, as the simulator now does): its sync
    // summary is the per-cluster status annotation.
    await waitFor(
      "the PersistentVolume's per-cluster Synced detail in kcp",
      async () => {
        const o = await kubectlGetJson(stack.kcpKubeconfig, ['persistentvolume', 'shared-data']);
        const details = Object.entries((o?.metadata?.annotations ?? {}) as Record<string, string>)
          .filter(([key]) => key.startsWith(CLUSTER_STATUS_ANNOTATION_PREFIX))
          .map(
            ([, value]) =>
              JSON.parse(value) as { cluster: string; conditions: Array<{ type: string; status: string }> },
          );
        return details.some(
          (d) => d.cluster === expected[0] && d.conditions.some((c) => c.type === 'Synced' && c.status === 'True'),
        );
      },
      { timeoutMs: 90_000 },
    );

    // `kubectl describe` shows what tmc did: where it placed the Deployment and that it applied it there.
    const described = await kubectlOk(stack.kcpKubeconfig, ['describe', 'deployment', 'web', '-n', 'shop']);
    const events = described.slice(described.indexOf('Events:'));
    expect(events).toMatch(/Normal\s+Placed\s+.*tmc\s+Placed on /);
    expect(events).toMatch(/Normal\s+Applied\s+.*tmc\s+Applied to /);
    const v1 = await kubectlGetJson(stack.kcpKubeconfig, [
      'events.events.k8s.io',
      '-n',
      'shop',
      '--field-selector',
      'regarding.name=web,reason=Applied',
    ]);
    expect(v1?.items?.[0]).toMatchObject({
      reportingController: 'tmc',
      regarding: { kind: 'Deployment', name: 'web' },
    });

    // `tmc placement explain` names the rule and the clusters.
    const explained = await promisify(execFile)(process.execPath, [
      'bin/tmc.mjs',
      'placement',
      'explain',
      'clusterrole/widget-reader',
      '--state-dir',
      stack.paths.root,
    ]);
    expect(explained.stdout).toContain('(workspace work)');
    expect(explained.stdout).toContain(`Clusters:   ${expected.join(', ')}`);

    await kubectlOk(stack.kcpKubeconfig, ['delete', '-f', restFile, '--wait=false']);
    await kubectlOk(stack.kcpKubeconfig, ['delete', '-f', crdFile, '--wait=false']);
    await waitFor(
      'everything gone from every cluster',
      async () => {
        const left: string[] = [];
        for (const [cluster, kubeconfig] of Object.entries(stack.clusterKubeconfigs)) {
          for (const [kind, name] of clusterScoped)
            if (await present(kubeconfig, [kind, name])) left.push(`${cluster}:${kind}/${name}`);
          for (const ns of namespaces)
            if (await present(kubeconfig, ['deployment', 'web', '-n', downstreamNamespace(stack.workspace, ns)]))
              left.push(`${cluster}:${ns}/web`);
          if (await present(kubeconfig, ['widgets.example.com', 'gadget', '-n', shop])) left.push(`${cluster}:widget`);
        }
        if (left.length) throw new Error(`still there: ${left.join(', ')}`);
        return true;
      },
      { timeoutMs: 90_000 },
    );
    for (const [kind, name] of clusterScoped) expect(await present(stack.kcpKubeconfig, [kind, name])).toBe(false);
  }, 240_000);
});
