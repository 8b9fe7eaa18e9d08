import { type SimServer, startSimServer } from '../../../lib/sim';
import { waitFor } from '../../support/wait';
import { allow, deny, startWebhookServer } from '../../unit/sim-admission/webhook-test-server';

const NAMESPACE_CONTROLLER = 'system:serviceaccount:kube-system:namespace-controller';
const NS = 'team';

type Review = { request: Record<string, any> };

// A real kube-apiserver's namespace controller deletes a terminating namespace's objects through admission: a
// webhook sees a DELETE (with the object as oldObject) for each one. tmc's ingress relies on it to clean clusters.
describe('simulator namespace deletion through admission webhooks', () => {
  let server: SimServer;
  let webhook: Awaited<ReturnType<typeof startWebhookServer>>;
  const deletes = (): Review[] => webhook.calls.map((c) => c.review).filter((r) => r.request.operation === 'DELETE');
  const deletesOf = (resource: string, name: string): Review[] =>
    deletes().filter((r) => r.request.resource.resource === resource && r.request.name === name);
  let refusedOnce = false;
  // The CREATE of `late` waits in admission until the test lets it go (a slow webhook).
  let letLateThrough: () => void = () => undefined;
  const lateReleased = new Promise<void>((resolve) => (letLateThrough = resolve));

  const api = (path: string, method = 'GET', body?: unknown, contentType = 'application/json'): Promise<Response> =>
    fetch(`${server.serverUrl('root:default')}${path}`, {
      method,
      headers: { 'content-type': contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const create = async (path: string, body: unknown): Promise<void> => {
    const response = await api(path, 'POST', body);
    expect(response.status).toBe(201);
  };

  beforeAll(async () => {
    webhook = await startWebhookServer(async (review) => {
      if (review.request.operation === 'CREATE' && review.request.object?.metadata?.name === 'late') await lateReleased;
      // The first DELETE of `stubborn` is refused: the namespace controller must try it again later.
      if (review.request.operation === 'DELETE' && review.request.name === 'stubborn' && !refusedOnce) {
        refusedOnce = true;
        return deny(review, { code: 403, message: 'not yet' });
      }
      return allow(review);
    });
    server = await startSimServer({ name: 'ns-deletion', mode: 'kcp' });
    await create('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'record-deletes' },
      webhooks: [
        {
          name: 'deletes.example.com',
          clientConfig: { url: webhook.url('/deletes') },
          rules: [
            { operations: ['DELETE'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] },
            { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] },
          ],
          failurePolicy: 'Fail',
          timeoutSeconds: 30,
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
        },
      ],
    });
  });
  afterAll(async () => {
    await server?.stop();
    await webhook?.close();
  });

  it('sends a DELETE admission for every object of a deleted namespace, retries a refused one, and waits for finalizers', async () => {
    await create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    for (const name of ['a', 'b', 'stubborn'])
      await create(`/api/v1/namespaces/${NS}/configmaps`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name },
        data: { k: name },
      });
    await create(`/api/v1/namespaces/${NS}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'held', finalizers: ['example.com/hold'] },
    });
    await create(`/api/v1/namespaces/${NS}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { k: 'dg==' },
    });
    await create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
        },
      },
    });
    const contained = [
      ['configmaps', 'a'],
      ['configmaps', 'b'],
      ['configmaps', 'stubborn'],
      ['configmaps', 'held'],
      ['secrets', 's'],
      ['deployments', 'web'],
    ];
    expect(deletes()).toHaveLength(0);

    expect((await api(`/api/v1/namespaces/${NS}`, 'DELETE')).status).toBe(200);
    await waitFor(
      'a DELETE admission for each contained object, and the refused one again',
      async () =>
        contained.every(([resource, name]) => deletesOf(resource, name).length > 0) &&
        deletesOf('configmaps', 'stubborn').length === 2,
    );
    for (const [resource, name] of contained) {
      const [first] = deletesOf(resource, name);
      expect(first.request).toMatchObject({
        operation: 'DELETE',
        namespace: NS,
        name,
        object: null,
        oldObject: { metadata: { name, namespace: NS } },
        userInfo: { username: NAMESPACE_CONTROLLER },
        options: { kind: 'DeleteOptions' },
      });
    }
    expect(deletes().find((r) => r.request.resource.resource === 'deployments')?.request.kind).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
    });
    // The user's own DELETE of the namespace went through admission as before.
    expect(deletesOf('namespaces', NS)).toHaveLength(1);

    // Every object without a finalizer is gone once admitted; `held` waits for its finalizer and keeps the namespace.
    const configMaps = { group: '', version: 'v1', resource: 'configmaps' };
    const store = server.store('root:default');
    await waitFor(
      'the refused object deleted on the retry',
      async () => store.get(configMaps, NS, 'stubborn') === undefined,
    );
    expect(store.list(configMaps, NS).map((c) => c.metadata.name)).toEqual(['held']);
    expect(store.get(configMaps, NS, 'held')?.metadata.deletionTimestamp).toBeDefined();
    const namespace = (await (await api(`/api/v1/namespaces/${NS}`)).json()) as { status: { phase: string } };
    expect(namespace.status.phase).toBe('Terminating');

    const released = await api(
      `/api/v1/namespaces/${NS}/configmaps/held`,
      'PATCH',
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    expect(released.status).toBe(200);
    await waitFor(
      'the namespace gone once its last object is',
      async () => (await api(`/api/v1/namespaces/${NS}`)).status === 404,
    );
    // An object already being deleted was not sent through admission again on the controller's retries.
    for (const [resource, name] of contained)
      expect(deletesOf(resource, name)).toHaveLength(name === 'stubborn' ? 2 : 1);
  });

  // kube's NamespaceLifecycle admission refuses every create in a terminating namespace, Events included:
  // Events tmc records while a namespace empties must not strand it in Terminating.
  it('refuses Events in a terminating namespace', async () => {
    const ns = 'late';
    await create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await create(`/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'held', finalizers: ['example.com/hold'] },
    });
    expect((await api(`/api/v1/namespaces/${ns}`, 'DELETE')).status).toBe(200);
    const event = await api(`/api/v1/namespaces/${ns}/events`, 'POST', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'held.1' },
      involvedObject: { kind: 'ConfigMap', namespace: ns, name: 'held' },
      reason: 'Applied',
      message: 'late',
    });
    expect(event.status).toBe(403);
    expect(((await event.json()) as { message: string }).message).toContain('being terminated');

    expect(
      (
        await api(
          `/api/v1/namespaces/${ns}/configmaps/held`,
          'PATCH',
          { metadata: { finalizers: null } },
          'application/merge-patch+json',
        )
      ).status,
    ).toBe(200);
    await waitFor('the namespace gone', async () => (await api(`/api/v1/namespaces/${ns}`)).status === 404);
  });

  it('deletes an object whose create was in admission when its namespace was deleted, then the namespace', async () => {
    // kube-apiserver checks the namespace before the webhooks run, so a create admitted slowly is stored in a namespace
    // that began terminating meanwhile; the namespace controller requeues while content remains and deletes it.
    const ns = 'racing';
    const configMaps = { group: '', version: 'v1', resource: 'configmaps' };
    const store = server.store('root:default');
    await create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await create(`/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'held', finalizers: ['example.com/hold'] },
    });
    const late = api(`/api/v1/namespaces/${ns}/configmaps`, 'POST', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'late' },
    });
    await waitFor('the create of late waiting in admission', async () =>
      webhook.calls.some((c) => c.review.request.operation === 'CREATE' && c.review.request.name === 'late'),
    );
    expect((await api(`/api/v1/namespaces/${ns}`, 'DELETE')).status).toBe(200);
    await waitFor(
      "the namespace controller's pass past the namespace's ConfigMaps",
      async () => store.get(configMaps, ns, 'held')?.metadata.deletionTimestamp !== undefined,
    );
    letLateThrough();
    expect((await late).status).toBe(201);
    expect(store.get(configMaps, ns, 'late')?.metadata.deletionTimestamp).toBeUndefined();

    await waitFor(
      'a DELETE admission for late, and late gone',
      async () => deletesOf('configmaps', 'late').length === 1 && store.get(configMaps, ns, 'late') === undefined,
    );
    const released = await api(
      `/api/v1/namespaces/${ns}/configmaps/held`,
      'PATCH',
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    expect(released.status).toBe(200);
    await waitFor('the namespace gone', async () => (await api(`/api/v1/namespaces/${ns}`)).status === 404);
  });
});
