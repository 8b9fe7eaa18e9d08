import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';
import { type SimServer, startSimServer } from '../../../lib/sim';
import * as build from '../../support/builders';
import { waitFor } from '../../support/wait';

const NS = 'client-node';
const WATCH_HISTORY = 20;

function kubeConfigFor(server: SimServer): KubeConfig {
  const kc = new KubeConfig();
  // client-node refuses plain http unless skipTLSVerify is set; there is no TLS on the simulator's loopback http.
  kc.loadFromOptions({
    clusters: [{ name: 'sim-client-node', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'sim-client-node', token: 'client-node' }],
    contexts: [{ name: 'sim-client-node', cluster: 'sim-client-node', user: 'sim-client-node' }],
    currentContext: 'sim-client-node',
  });
  return kc;
}

const configMap = (
  name: string,
  labels: Record<string, string> = {},
  data: Record<string, string> = { a: '1' },
): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS, labels },
  data,
});

/** Two containers, so a strategic merge patch of one leaves the other (merge by `name`). */
const deployment = (name: string): V1Deployment =>
  // client-node types timestamps as Date where tmc's KubeObject has strings; the builder sets none.
  build.deployment(name, {
    namespace: NS,
    container: 'web',
    image: 'nginx:1.25',
    sidecars: [{ name: 'sidecar', image: 'busybox:1.36' }],
  }) as V1Deployment;

async function apiError(promise: Promise<unknown>): Promise<ApiException<string>> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiException) return err as ApiException<string>;
    throw err;
  }
  throw new Error('expected the call to fail with an ApiException');
}

// tmc's own client is @kubernetes/client-node 1.4: typed APIs, the generic KubernetesObjectApi, Watch and informers
// must see the simulator as a kube-apiserver.
describe('simulator: @kubernetes/client-node conformance', () => {
  let server: SimServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  beforeAll(async () => {
    server = await startSimServer({
      name: 'client-node',
      mode: 'cluster',
      port: 0,
      watchHistory: WATCH_HISTORY,
      workloads: { readyDelayMs: 100 },
    });
    kc = kubeConfigFor(server);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });
  afterAll(() => server?.stop());

  it('typed create, read, and each patch strategy with its content type', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: configMap('typed') });
    expect(created.metadata?.uid).toBeTruthy();
    expect((await core.readNamespacedConfigMap({ name: 'typed', namespace: NS })).data).toEqual({ a: '1' });

    const merged = await core.patchNamespacedConfigMap(
      { name: 'typed', namespace: NS, body: { data: { b: '2' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.data).toEqual({ a: '1', b: '2' });
    const jsonPatched = await core.patchNamespacedConfigMap(
      { name: 'typed', namespace: NS, body: [{ op: 'remove', path: '/data/a' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.data).toEqual({ b: '2' });

    await apps.createNamespacedDeployment({ namespace: NS, body: deployment('web') });
    // Strategic merge: containers merge by name, so the sidecar survives a patch naming only web.
    const strategic = await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: NS,
        body: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
      'web=nginx:1.27',
      'sidecar=busybox:1.36',
    ]);
    expect(strategic.metadata?.generation).toBe(2);

    server.requests.reset();
    const applied = await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: NS,
        fieldManager: 'tmc',
        force: true,
        body: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web', namespace: NS },
          spec: { replicas: 3 },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    expect(applied.spec?.replicas).toBe(3);
    expect(applied.metadata?.managedFields?.map((f) => f.manager)).toContain('tmc');
    expect(server.requests.count({ verb: 'apply', resource: 'deployments' })).toBe(1);
  });

  it('errors are ApiExceptions with the code and a Status body: 404, 409 stale resourceVersion, 409 exists, 422', async () => {
    expect((await apiError(core.readNamespacedConfigMap({ name: 'missing', namespace: NS }))).code).toBe(404);
    const current = await core.createNamespacedConfigMap({ namespace: NS, body: configMap('conflict') });
    await core.replaceNamespacedConfigMap({ name: 'conflict', namespace: NS, body: { ...current, data: { a: '2' } } });
    const stale = await apiError(
      core.replaceNamespacedConfigMap({ name: 'conflict', namespace: NS, body: { ...current, data: { a: '3' } } }),
    );
    expect(stale.code).toBe(409);
    expect(JSON.parse(stale.body)).toMatchObject({ kind: 'Status', reason: 'Conflict' });
    expect((await apiError(core.createNamespacedConfigMap({ namespace: NS, body: configMap('conflict') }))).code).toBe(
      409,
    );
    const invalid = await apiError(core.createNamespacedConfigMap({ namespace: NS, body: configMap('Not_Valid') }));
    expect(invalid.code).toBe(422);
    expect(JSON.parse(invalid.body)).toMatchObject({
      reason: 'Invalid',
      details: { causes: [{ field: 'metadata.name' }] },
    });
  });

  it('lists with a label selector page by page through continue tokens', async () => {
    for (let i = 0; i < 5; i++)
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap(`paged-${i}`, { tier: 'paged' }) });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('unpaged', { tier: 'other' }) });
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedConfigMap({
        namespace: NS,
        labelSelector: 'tier in (paged)',
        limit: 2,
        _continue: token,
      });
      names.push(...page.items.map((cm) => cm.metadata?.name ?? ''));
      token = page.metadata?._continue || undefined;
      pages++;
    } while (token);
    expect(names).toEqual(['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4']);
    expect(pages).toBe(3);
  });

  it('KubernetesObjectApi: create, read, patch, list and delete by apiVersion and kind', async () => {
    const generic = KubernetesObjectApi.makeApiClient(kc);
    await generic.create(configMap('generic', { via: 'generic' }));
    expect(
      (await generic.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace: NS } }))
        .metadata?.uid,
    ).toBeTruthy();
    const patched = await generic.patch(
      configMap('generic', { via: 'generic' }, { a: 'patched' }),
      undefined,
      undefined,
      'tmc-generic',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((patched as V1ConfigMap).data).toEqual({ a: 'patched' });
    const listed = await generic.list('v1', 'ConfigMap', NS, undefined, undefined, undefined, undefined, 'via=generic');
    expect(listed.items.map((o) => o.metadata?.name)).toEqual(['generic']);
    await generic.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace: NS } });
    expect(
      (
        await apiError(
          generic.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace: NS } }),
        )
      ).code,
    ).toBe(404);
  });

  it('Watch from a resourceVersion sees ADDED, MODIFIED, DELETED in order, then a BOOKMARK', async () => {
    const start = (await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion ?? '';
    const events: string[] = [];
    let bookmark: string | undefined;
    const controller = await new Watch(kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: start, allowWatchBookmarks: true },
      (type, object: V1ConfigMap) => {
        if (type === 'BOOKMARK') bookmark = object.metadata?.resourceVersion;
        else events.push(`${type} ${object.metadata?.name}`);
      },
      () => undefined,
    );
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('watched') });
      await core.patchNamespacedConfigMap(
        { name: 'watched', namespace: NS, body: { data: { a: '2' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ name: 'watched', namespace: NS });
      await waitFor('three watch events', async () => events.length >= 3, { timeoutMs: 10_000 });
      expect(events).toEqual(['ADDED watched', 'MODIFIED watched', 'DELETED watched']);
      // Bookmarks come every 5 s and carry the newest resourceVersion.
      await waitFor('a BOOKMARK', async () => bookmark !== undefined, { timeoutMs: 15_000 });
      expect(Number(bookmark)).toBeGreaterThan(Number(start));
    } finally {
      controller.abort();
    }
  });

  it('a watch from an expired resourceVersion gets ERROR 410 Expired', async () => {
    const old = (await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion ?? '';
    for (let i = 0; i < WATCH_HISTORY + 5; i++)
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap(`churn-${i}`, { churn: 'yes' }) });
    const seen: Array<{ type: string; code?: number; reason?: string }> = [];
    let ended = false;
    await new Watch(kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: old },
      (type, object: { code?: number; reason?: string }) =>
        seen.push({ type, code: object.code, reason: object.reason }),
      () => {
        ended = true;
      },
    );
    await waitFor('the expired watch to end', async () => ended, { timeoutMs: 10_000 });
    expect(seen).toEqual([{ type: 'ERROR', code: 410, reason: 'Expired' }]);
  });

  it('an informer lists, watches, and after its resourceVersion expired relists (adds and deletes caught up)', async () => {
    const path = `/api/v1/namespaces/${NS}/configmaps`;
    const informer = makeInformer(
      kc,
      path,
      () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'informed=yes' }),
      'informed=yes',
    );
    const added: string[] = [];
    const deleted: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (cm) => added.push(cm.metadata?.name ?? ''));
    informer.on('delete', (cm) => deleted.push(cm.metadata?.name ?? ''));
    informer.on('error', (err) => errors.push(err));
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('informed-0', { informed: 'yes' }) });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('informed-gone', { informed: 'yes' }) });
    server.requests.reset();
    await informer.start();
    try {
      await waitFor('the initial list', async () => added.length === 2, { timeoutMs: 10_000 });
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('informed-1', { informed: 'yes' }) });
      await waitFor('a watched add', async () => added.includes('informed-1'), { timeoutMs: 10_000 });

      // The connection drops; meanwhile more changes than the watch history holds.
      server.faults.set({ down: true });
      await waitFor('the informer to see the connection drop', async () => errors.length > 0, { timeoutMs: 10_000 });
      server.faults.clear();
      await core.deleteNamespacedConfigMap({ name: 'informed-gone', namespace: NS });
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('informed-2', { informed: 'yes' }) });
      for (let i = 0; i < WATCH_HISTORY + 5; i++)
        await core.createNamespacedConfigMap({ namespace: NS, body: configMap(`noise-${i}`) });

      // Restarting watches from the old resourceVersion: 410, then a relist that catches up.
      await informer.start();
      await waitFor(
        'the relist',
        async () => informer.list(NS).length === 3 && added.includes('informed-2') && deleted.includes('informed-gone'),
        { timeoutMs: 10_000 },
      );
      expect(
        informer
          .list(NS)
          .map((cm) => cm.metadata?.name)
          .sort(),
      ).toEqual(['informed-0', 'informed-1', 'informed-2']);
      expect(server.requests.count({ verb: 'list', resource: 'configmaps' })).toBe(2);
    } finally {
      await informer.stop();
    }
  });
});
