import { downstreamNamespace } from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { toDownstream } from '../../../lib/sync/transform';

const WS = 'root:team';
const mapped = (ns: string): string => downstreamNamespace(WS, ns);
const refOf = (o: KubeObject, group: string, resource: string): ObjectRef => ({
  workspace: WS,
  group,
  version: 'v1',
  resource,
  kind: o.kind,
  namespace: o.metadata.namespace,
  name: o.metadata.name ?? '',
});

describe('namespace references inside objects name the downstream namespaces', () => {
  it.each<[string, KubeObject, string, string, (o: KubeObject) => unknown, unknown]>([
    [
      'ClusterRoleBinding ServiceAccount subjects (not users, not the cluster-own namespaces)',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'b' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'r' },
        subjects: [
          { kind: 'ServiceAccount', name: 'app', namespace: 'shop' },
          { kind: 'User', name: 'alice' },
          { kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' },
        ],
      },
      'rbac.authorization.k8s.io',
      'clusterrolebindings',
      (o) => o.subjects,
      [
        { kind: 'ServiceAccount', name: 'app', namespace: mapped('shop') },
        { kind: 'User', name: 'alice' },
        { kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' },
      ],
    ],
    [
      'RoleBinding ServiceAccount subjects',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'b', namespace: 'shop' },
        subjects: [{ kind: 'ServiceAccount', name: 'app', namespace: 'billing' }],
      },
      'rbac.authorization.k8s.io',
      'rolebindings',
      (o) => o.subjects,
      [{ kind: 'ServiceAccount', name: 'app', namespace: mapped('billing') }],
    ],
    [
      'ValidatingWebhookConfiguration clientConfig.service',
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'w' },
        webhooks: [
          { name: 'a.example.com', clientConfig: { service: { name: 'hook', namespace: 'shop' } } },
          { name: 'b.example.com', clientConfig: { url: 'https://x' } },
        ],
      },
      'admissionregistration.k8s.io',
      'validatingwebhookconfigurations',
      (o) => o.webhooks,
      [
        { name: 'a.example.com', clientConfig: { service: { name: 'hook', namespace: mapped('shop') } } },
        { name: 'b.example.com', clientConfig: { url: 'https://x' } },
      ],
    ],
    [
      'APIService spec.service',
      {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: 'v1.example.com' },
        spec: { group: 'example.com', version: 'v1', service: { name: 'api', namespace: 'shop' } },
      },
      'apiregistration.k8s.io',
      'apiservices',
      (o) => (o.spec as { service: unknown }).service,
      { name: 'api', namespace: mapped('shop') },
    ],
  ])('%s', (_label, object, group, resource, pick, expected) => {
    const down = toDownstream(object, refOf(object, group, resource), { cluster: 'east' });
    expect(pick(down)).toEqual(expected);
    expect(pick(object)).not.toEqual(expected); // the kcp object is not changed
  });
});
