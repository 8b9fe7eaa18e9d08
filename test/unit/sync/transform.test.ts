import {
  CLUSTER_KEY_LABEL,
  GENERATION_ANNOTATION,
  MANAGED_BY_LABEL,
  SOURCE_ANNOTATION,
  SOURCE_UID_LABEL,
  WORKSPACE_ANNOTATION,
  clusterKey,
  downstreamNamespace,
} from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { stableHash } from '../../../lib/kube/canonical-hash';
import { podTemplateReferences } from '../../../lib/sync/dependencies';
import { downstreamHash, ownershipOf, toDownstream } from '../../../lib/sync/transform';

const WS = 'root:team-a';
const UID = '5f0c6a4e-1111-2222-3333-444455556666';

function serverOwned(kind: string, apiVersion: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: UID,
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2026-01-01T00:00:00Z',
      managedFields: [{ manager: 'kubectl' }],
      finalizers: ['workload.kcp.io/syncer'],
      selfLink: '/x',
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'kcp-uid' }],
      labels: { app: 'web', 'state.workload.kcp.io/abc123': 'Sync' },
      annotations: {
        'kcp.io/cluster': 'root:team-a',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
        'experimental.status.workload.kcp.io/abc123': '{}',
        'status.tmc.kcp.io/conditions': '[]',
        keep: 'me',
      },
    },
    status: { replicas: 3 },
    ...extra,
  };
}

function refOf(object: KubeObject, group: string, resource: string): ObjectRef {
  const version = object.apiVersion.split('/').pop() ?? 'v1';
  return {
    workspace: WS,
    group,
    version,
    resource,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name ?? '',
    uid: UID,
  };
}

const podTemplate = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
};

const KINDS: Array<[string, string, string, string, Record<string, unknown>]> = [
  [
    'Deployment',
    'apps/v1',
    'apps',
    'deployments',
    { spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: podTemplate } },
  ],
  [
    'StatefulSet',
    'apps/v1',
    'apps',
    'statefulsets',
    { spec: { replicas: 2, serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template: podTemplate } },
  ],
  [
    'DaemonSet',
    'apps/v1',
    'apps',
    'daemonsets',
    { spec: { selector: { matchLabels: { app: 'web' } }, template: podTemplate } },
  ],
  ['Job', 'batch/v1', 'batch', 'jobs', { spec: { template: podTemplate } }],
  [
    'CronJob',
    'batch/v1',
    'batch',
    'cronjobs',
    { spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: podTemplate } } } },
  ],
  ['Service', 'v1', '', 'services', { spec: { ports: [{ port: 80 }], selector: { app: 'web' } } }],
  ['Ingress', 'networking.k8s.io/v1', 'networking.k8s.io', 'ingresses', { spec: { rules: [{ host: 'web.example' }] } }],
  ['ConfigMap', 'v1', '', 'configmaps', { data: { a: '1' } }],
  ['Secret', 'v1', '', 'secrets', { type: 'Opaque', data: { password: 'c2VjcmV0' } }],
  ['Widget', 'example.com/v1', 'example.com', 'widgets', { spec: { size: 3 } }],
];

describe('toDownstream: every kind', () => {
  it.each(KINDS)('%s (%s)', (kind, apiVersion, group, resource, extra) => {
    const source = serverOwned(kind, apiVersion, extra);
    const before = structuredClone(source);
    const out = toDownstream(source, refOf(source, group, resource), { cluster: 'east' });
    expect(source).toEqual(before); // pure
    const m = out.metadata;
    for (const key of [
      'uid',
      'resourceVersion',
      'generation',
      'creationTimestamp',
      'managedFields',
      'finalizers',
      'selfLink',
      'ownerReferences',
    ]) {
      expect(m[key]).toBeUndefined();
    }
    expect(out.status).toBeUndefined();
    expect(m.namespace).toBe(downstreamNamespace(WS, 'default'));
    expect(m.labels).toEqual({
      app: 'web',
      [MANAGED_BY_LABEL]: 'tmc',
      [CLUSTER_KEY_LABEL]: clusterKey(WS, 'east'),
      [SOURCE_UID_LABEL]: UID,
    });
    expect(m.annotations).toEqual({
      keep: 'me',
      [WORKSPACE_ANNOTATION]: WS,
      [SOURCE_ANNOTATION]: JSON.stringify({
        group,
        version: apiVersion.split('/').pop(),
        resource,
        kind,
        namespace: 'default',
        name: 'web',
      }),
      [GENERATION_ANNOTATION]: '3',
    });
    expect(out.kind).toBe(kind);
    expect(out.apiVersion).toBe(apiVersion);
  });

  it('shares no object with the source: changing the copy leaves the kcp object as it was', () => {
    const [kind, apiVersion, group, resource, extra] = KINDS[0]!;
    const source = serverOwned(kind, apiVersion, extra);
    const before = structuredClone(source);
    const out = toDownstream(source, refOf(source, group, resource), { cluster: 'east' });
    const spec = out.spec as { selector: { matchLabels: Record<string, string> }; template: typeof podTemplate };
    spec.selector.matchLabels.app = 'changed';
    spec.template.spec.containers[0]!.image = 'changed';
    out.metadata.labels!.app = 'changed';
    expect(source).toEqual(before);
  });

  it('strips allocated Service fields but keeps a headless clusterIP', () => {
    const svc = serverOwned('Service', 'v1', {
      spec: { clusterIP: '10.0.0.7', clusterIPs: ['10.0.0.7'], healthCheckNodePort: 30001, ports: [{ port: 80 }] },
    });
    expect(toDownstream(svc, refOf(svc, '', 'services'), { cluster: 'east' }).spec).toEqual({ ports: [{ port: 80 }] });
    const headless = serverOwned('Service', 'v1', { spec: { clusterIP: 'None', clusterIPs: ['None'] } });
    expect(toDownstream(headless, refOf(headless, '', 'services'), { cluster: 'east' }).spec).toEqual({
      clusterIP: 'None',
      clusterIPs: ['None'],
    });
  });

  it('strips the controller-generated Job selector and labels', () => {
    const job = serverOwned('Job', 'batch/v1', {
      spec: {
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } },
        template: {
          metadata: {
            labels: { app: 'x', 'controller-uid': 'u', 'job-name': 'web', 'batch.kubernetes.io/job-name': 'web' },
          },
          spec: {},
        },
      },
    });
    const spec = toDownstream(job, refOf(job, 'batch', 'jobs'), { cluster: 'east' }).spec as Record<string, any>;
    expect(spec.selector).toBeUndefined();
    expect(spec.template.metadata.labels).toEqual({ app: 'x' });
  });

  it('keeps a manual Job selector', () => {
    const job = serverOwned('Job', 'batch/v1', {
      spec: {
        manualSelector: true,
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } } },
      },
    });
    expect((toDownstream(job, refOf(job, 'batch', 'jobs'), { cluster: 'east' }).spec as any).selector).toEqual({
      matchLabels: { a: 'b' },
    });
  });

  it('leaves cluster-scoped objects without a namespace', () => {
    const cr = serverOwned('ClusterRole', 'rbac.authorization.k8s.io/v1', { rules: [] });
    delete cr.metadata.namespace;
    expect(
      toDownstream(cr, refOf(cr, 'rbac.authorization.k8s.io', 'clusterroles'), { cluster: 'east' }).metadata.namespace,
    ).toBeUndefined();
  });
});

describe('namespace mapping', () => {
  it.each([
    ['root:a', 'default', 'root:b', 'default', false],
    ['root:a', 'default', 'root:a', 'prod', false],
    ['root:a', 'default', 'root:a', 'default', true],
  ])('%s/%s vs %s/%s → same: %s', (w1, n1, w2, n2, same) => {
    expect(downstreamNamespace(w1, n1) === downstreamNamespace(w2, n2)).toBe(same);
    expect(downstreamNamespace(w1, n1)).toMatch(/^kcp-[a-z0-9]{12}$/);
  });

  // Values computed before the hashes were memoised: names already on clusters must not change.
  it('keeps the names it gave before, asked once, again, and after thousands of other names', () => {
    const asked = (): string[] => [clusterKey('root:org', 'east'), downstreamNamespace('root:org', 'default')];
    expect(asked()).toEqual(['ahmrw6eqedif', 'kcp-bl64afnwctp5']);
    expect(asked()).toEqual(['ahmrw6eqedif', 'kcp-bl64afnwctp5']);
    for (let i = 0; i < 5_000; i++) clusterKey(`root:w${i}`, 'east');
    expect(asked()).toEqual(['ahmrw6eqedif', 'kcp-bl64afnwctp5']);
    expect(clusterKey('root:w4999', 'east')).not.toBe(clusterKey('root:w4998', 'east'));
  });
});

describe('replica share and overrides', () => {
  const deploy = serverOwned('Deployment', 'apps/v1', {
    spec: {
      replicas: 6,
      template: {
        spec: {
          containers: [
            { name: 'app', image: 'nginx:1', env: [{ name: 'MODE', value: 'a' }] },
            { name: 'side', image: 'envoy:1' },
          ],
        },
      },
    },
  });
  const ref = refOf(deploy, 'apps', 'deployments');
  const spec = (o: KubeObject): any => o.spec;

  it.each<[string, Parameters<typeof toDownstream>[2], (o: KubeObject) => unknown, unknown]>([
    ['replica share', { cluster: 'east', replicas: 2 }, (o) => spec(o).replicas, 2],
    ['duplicate (no share)', { cluster: 'east' }, (o) => spec(o).replicas, 6],
    [
      'override replicas beats the share',
      { cluster: 'east', replicas: 2, overrides: [{ replicas: 5 }] },
      (o) => spec(o).replicas,
      5,
    ],
    [
      'image for one container',
      { cluster: 'east', overrides: [{ image: [{ container: 'app', image: 'nginx:2' }] }] },
      (o) => spec(o).template.spec.containers.map((c: any) => c.image),
      ['nginx:2', 'envoy:1'],
    ],
    [
      'image for all containers',
      { cluster: 'east', overrides: [{ image: [{ image: 'mirror/x' }] }] },
      (o) => spec(o).template.spec.containers.map((c: any) => c.image),
      ['mirror/x', 'mirror/x'],
    ],
    [
      'env replaced and added',
      {
        cluster: 'east',
        overrides: [
          {
            env: [
              { container: 'app', name: 'MODE', value: 'b' },
              { container: 'app', name: 'REGION', value: 'eu' },
            ],
          },
        ],
      },
      (o) => spec(o).template.spec.containers[0].env,
      [
        { name: 'MODE', value: 'b' },
        { name: 'REGION', value: 'eu' },
      ],
    ],
    ['labels', { cluster: 'east', overrides: [{ labels: { tier: 'edge' } }] }, (o) => o.metadata.labels?.tier, 'edge'],
    [
      'json patch',
      { cluster: 'east', overrides: [{ jsonPatch: [{ op: 'add', path: '/spec/paused', value: true }] }] },
      (o) => spec(o).paused,
      true,
    ],
    [
      'later override wins',
      { cluster: 'east', overrides: [{ replicas: 1 }, { replicas: 4 }] },
      (o) => spec(o).replicas,
      4,
    ],
    [
      'override cannot remove ownership',
      { cluster: 'east', overrides: [{ labels: { [MANAGED_BY_LABEL]: 'someone' } }] },
      (o) => o.metadata.labels?.[MANAGED_BY_LABEL],
      'tmc',
    ],
  ])('%s', (_name, placement, pick, expected) => {
    expect(pick(toDownstream(deploy, ref, placement))).toEqual(expected);
  });

  // A patch whose path a kind lacks (a ConfigMap has no spec) would fail on every retry: the object syncs without it.
  it.each<
    [
      string,
      KubeObject,
      NonNullable<Parameters<typeof toDownstream>[2]['overrides']>,
      number,
      (o: KubeObject) => unknown,
      unknown,
    ]
  >([
    [
      'a failing test op is skipped',
      deploy,
      [
        {
          jsonPatch: [
            { op: 'test', path: '/spec/replicas', value: 99 },
            { op: 'add', path: '/spec/paused', value: true },
          ],
        },
      ],
      1,
      (o) => spec(o).paused,
      undefined,
    ],
    [
      'a missing parent path is skipped',
      serverOwned('ConfigMap', 'v1', { data: { a: '1' } }),
      [{ jsonPatch: [{ op: 'add', path: '/spec/minReadySeconds', value: 5 }] }],
      1,
      (o) => o.data,
      { a: '1' },
    ],
    [
      'other overrides still apply',
      serverOwned('ConfigMap', 'v1', {}),
      [{ jsonPatch: [{ op: 'add', path: '/spec/x', value: 1 }] }, { labels: { tier: 'edge' } }],
      1,
      (o) => o.metadata.labels?.tier,
      'edge',
    ],
    [
      'a patch that applies reports nothing',
      deploy,
      [{ jsonPatch: [{ op: 'add', path: '/spec/minReadySeconds', value: 5 }] }],
      0,
      (o) => spec(o).minReadySeconds,
      5,
    ],
  ])('%s', (_label, object, overrides, reports, pick, expected) => {
    const skipped: string[] = [];
    const result = toDownstream(object, refOf(object, '', 'objects'), { cluster: 'east', overrides }, (reason) =>
      skipped.push(reason),
    );
    expect(pick(result)).toEqual(expected);
    expect(skipped).toHaveLength(reports);
    for (const reason of skipped)
      expect(reason).toMatch(new RegExp(`does not apply to ${object.kind} .*scope the override with kinds`));
  });
});

describe('stable hash', () => {
  const a = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'x', labels: { b: '2', a: '1' } },
    data: { z: '1', y: '2' },
  };
  const reordered = {
    data: { y: '2', z: '1' },
    metadata: { labels: { a: '1', b: '2' }, name: 'x' },
    kind: 'ConfigMap',
    apiVersion: 'v1',
  };
  it.each<[string, KubeObject, KubeObject, boolean]>([
    ['key order does not matter', a, reordered, true],
    ['status does not matter', a, { ...a, status: { phase: 'x' } }, true],
    ['undefined members do not matter', a, { ...a, extra: undefined }, true],
    ['a data change matters', a, { ...a, data: { z: '1', y: '3' } }, false],
    ['array order matters', { ...a, list: [1, 2] }, { ...a, list: [2, 1] }, false],
  ])('%s', (_name, x, y, same) => {
    expect(downstreamHash(x, undefined) === downstreamHash(y, undefined)).toBe(same);
  });
  it('is sha256 hex', () => expect(stableHash({ a: 1 })).toMatch(/^sha256:[0-9a-f]{64}$/));
  it('the same kcp object transforms to the same hash whatever its resourceVersion', () => {
    const s1 = serverOwned('ConfigMap', 'v1', { data: { a: '1' } });
    const s2 = { ...s1, metadata: { ...s1.metadata, resourceVersion: '99', managedFields: [] } };
    const ref = refOf(s1, '', 'configmaps');
    expect(downstreamHash(toDownstream(s1, ref, { cluster: 'east' }), undefined)).toBe(
      downstreamHash(toDownstream(s2, ref, { cluster: 'east' }), undefined),
    );
  });
});

describe('ownership', () => {
  const owned = (uid: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { labels: { [MANAGED_BY_LABEL]: 'tmc', [SOURCE_UID_LABEL]: uid } },
  });
  it.each<[string, KubeObject | undefined, string]>([
    ['absent', undefined, 'absent'],
    ['no labels', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, 'unmanaged'],
    ['ours', owned(UID), 'owned'],
    ['another source', owned('other'), 'foreign'],
  ])('%s → %s', (_n, existing, expected) => expect(ownershipOf(existing, UID)).toBe(expected));
});

describe('podTemplateReferences', () => {
  it('finds ConfigMaps, Secrets, ServiceAccounts and PVCs, de-duplicated', () => {
    const d: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'w' },
      spec: {
        template: {
          spec: {
            serviceAccountName: 'runner',
            imagePullSecrets: [{ name: 'pull' }],
            volumes: [
              { name: 'a', configMap: { name: 'cfg' } },
              { name: 'b', secret: { secretName: 'tls' } },
              { name: 'c', persistentVolumeClaim: { claimName: 'data' } },
              { name: 'd', projected: { sources: [{ configMap: { name: 'proj' } }, { secret: { name: 'tls' } }] } },
            ],
            containers: [
              {
                name: 'x',
                env: [
                  { name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'a' } } },
                  { name: 'B', valueFrom: { secretKeyRef: { name: 'pw', key: 'b' } } },
                ],
                envFrom: [{ configMapRef: { name: 'env' } }],
              },
            ],
            initContainers: [{ name: 'i', envFrom: [{ secretRef: { name: 'init' } }] }],
          },
        },
      },
    };
    expect(podTemplateReferences(d).map((r) => `${r.kind}/${r.name}`)).toEqual([
      'ServiceAccount/runner',
      'ConfigMap/cfg',
      'ConfigMap/env',
      'ConfigMap/proj',
      'Secret/init',
      'Secret/pull',
      'Secret/pw',
      'Secret/tls',
      'PersistentVolumeClaim/data',
    ]);
  });
  it.each<[string, KubeObject, string[]]>([
    ['a ConfigMap has none', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, []],
    [
      'the default ServiceAccount is skipped',
      { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { serviceAccountName: 'default', containers: [] } },
      [],
    ],
    [
      'CronJob templates are found',
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: {},
        spec: { jobTemplate: { spec: { template: { spec: { volumes: [{ configMap: { name: 'c' } }] } } } } },
      },
      ['ConfigMap/c'],
    ],
  ])('%s', (_n, o, expected) => expect(podTemplateReferences(o).map((r) => `${r.kind}/${r.name}`)).toEqual(expected));
});
