import { downstreamNamespace } from '../../lib/api/labels';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * Issue 14, defect 10: with no fault at all, 4 of 80 objects (40 Deployments and 40 ConfigMaps in 4 namespaces, one
 * `kubectl apply`, the default placement) had not landed after 3 minutes. Every object must land on its namespace's
 * cluster, and status must say so.
 */
describe('one kubectl apply of 80 objects in 4 namespaces', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const namespaces = ['bulk-a', 'bulk-b', 'bulk-c', 'bulk-d'];

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  function manifest(): string {
    const docs: string[] = namespaces.map((ns) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`);
    for (const ns of namespaces) {
      for (let i = 0; i < 10; i++) {
        docs.push(
          `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-${i}\n  namespace: ${ns}\ndata:\n  index: "${i}"\n`,
        );
        docs.push(
          `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${i}\n  namespace: ${ns}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: { app: app-${i} }\n  template:\n    metadata:\n      labels: { app: app-${i} }\n    spec:\n      containers:\n        - name: c\n          image: nginx\n          envFrom:\n            - configMapRef: { name: cfg-${i} }\n`,
        );
      }
    }
    return docs.join('---\n');
  }

  /** Names of `kind` in the downstream namespace of `ns`, on every cluster together. */
  async function landed(kind: string, ns: string): Promise<Set<string>> {
    const names = new Set<string>();
    for (const kubeconfig of Object.values(stack.clusterKubeconfigs)) {
      const list = await kubectlGetJson<{ items: Array<{ metadata: { name: string } }> }>(kubeconfig, [
        kind,
        '-n',
        downstreamNamespace('root:default', ns),
      ]);
      for (const item of list?.items ?? []) names.add(item.metadata.name);
    }
    return names;
  }

  it('lands every Deployment and ConfigMap on a cluster, and every Deployment reports ready', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], manifest());
    const missing = await waitFor(
      'all 80 objects on their clusters',
      async () => {
        const gone: string[] = [];
        for (const ns of namespaces) {
          const [deployments, configMaps] = await Promise.all([landed('deployments', ns), landed('configmaps', ns)]);
          for (let i = 0; i < 10; i++) {
            if (!deployments.has(`app-${i}`)) gone.push(`${ns}/deployment/app-${i}`);
            if (!configMaps.has(`cfg-${i}`)) gone.push(`${ns}/configmap/cfg-${i}`);
          }
        }
        return gone.length === 0 ? gone : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    expect(missing).toEqual([]);
    await waitFor(
      'every Deployment Available in kcp',
      async () => {
        const list = await kubectlGetJson<{
          items: Array<{
            metadata: { namespace: string; name: string };
            status?: { readyReplicas?: number; conditions?: Array<{ type: string; status: string }> };
          }>;
        }>(stack.kcpKubeconfig, ['deployments', '-A']);
        const items = (list?.items ?? []).filter((d) => namespaces.includes(d.metadata.namespace));
        const notReady = items
          .filter(
            (d) =>
              d.status?.readyReplicas !== 1 ||
              !d.status.conditions?.some((c) => c.type === 'Placed' && c.status === 'True'),
          )
          .map((d) => `${d.metadata.namespace}/${d.metadata.name}`);
        return items.length === 40 && notReady.length === 0 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
  });
});
