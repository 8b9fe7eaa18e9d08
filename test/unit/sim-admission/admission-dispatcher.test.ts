import {
  createAdmissionDispatcher,
  createWebhookFaultInjector,
  type WebhookFailOpen,
} from '../../../lib/sim/admission';
import type { KubeObject } from '../../../lib/kube/object';
import type { AdmissionAttributes } from '../../../lib/sim/contracts';
import * as build from '../../support/builders';
import { FakeClusterStore } from '../sim-controllers/fake-cluster-store';
import { allow, closedPort, deny, jsonPatch, startWebhookServer } from './webhook-test-server';

const MUTATING = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'mutatingwebhookconfigurations' };
const VALIDATING = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  resource: 'validatingwebhookconfigurations',
};
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };

/** The Deployment these cases admit; `labels` is always set (a webhook's JSON patch adds to it). */
const deployment = (labels: Record<string, string> = {}, namespace = 'team'): KubeObject =>
  build.deployment('web', { namespace, labels });

function attrs(store: FakeClusterStore, overrides: Partial<AdmissionAttributes> = {}): AdmissionAttributes {
  return {
    store,
    operation: 'CREATE',
    gvr: DEPLOYMENTS,
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    namespace: 'team',
    name: 'web',
    object: deployment(),
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    dryRun: false,
    ...overrides,
  };
}

function webhook(name: string, url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    clientConfig: { url },
    rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }],
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    ...extra,
  };
}

function storeWith(configs: {
  mutating?: Record<string, unknown>[];
  validating?: Record<string, unknown>[];
}): FakeClusterStore {
  const store = new FakeClusterStore();
  store.create(NAMESPACES, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'team', labels: { env: 'prod' } },
  });
  store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } });
  if (configs.mutating)
    store.create(MUTATING, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'm' },
      webhooks: configs.mutating,
    });
  if (configs.validating)
    store.create(VALIDATING, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'v' },
      webhooks: configs.validating,
    });
  return store;
}

describe('admission dispatcher', () => {
  let server: Awaited<ReturnType<typeof startWebhookServer>>;
  const dispatcher = createAdmissionDispatcher({
    credentialsFor: (url) => (url.includes('/secure') ? { token: 's3cret' } : undefined),
  });

  beforeAll(async () => {
    server = await startWebhookServer((review, path) => {
      switch (path) {
        case '/add-label':
          return jsonPatch(review, [{ op: 'add', path: '/metadata/labels/mutated', value: 'first' }]);
        case '/read-label':
          // Proves webhooks run in order: copies what the previous webhook set.
          return jsonPatch(review, [
            {
              op: 'add',
              path: '/metadata/annotations',
              value: { seen: review.request.object.metadata.labels.mutated ?? 'none' },
            },
          ]);
        case '/deny':
          return deny(review, { message: 'replicas must be at least 2' });
        case '/deny-403':
          return deny(review, { code: 403, reason: 'Forbidden', message: 'not on Tuesdays' });
        case '/deny-bare':
          return deny(review);
        case '/warn':
          return allow(review, { warnings: ['spec.replicas is low'] });
        case '/hang':
          return 'hang';
        case '/error':
          return { status: 500, body: 'boom' };
        case '/garbage':
          return { body: 'not json' };
        case '/wrong-uid':
          return {
            body: {
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              response: { uid: 'nope', allowed: true },
            },
          };
        default:
          return allow(review);
      }
    });
  });
  afterAll(async () => {
    dispatcher.close();
    await server.close();
  });
  beforeEach(() => server.calls.splice(0));

  it('applies a mutating JSONPatch and sends a complete AdmissionReview v1', async () => {
    const store = storeWith({ mutating: [webhook('label.tmc.dev', server.url('/add-label'))] });
    const outcome = await dispatcher.admit(attrs(store));
    expect(outcome).toMatchObject({ allowed: true, object: { metadata: { labels: { mutated: 'first' } } } });
    const { request } = server.calls[0].review;
    expect(server.calls[0].path).toBe('/add-label?timeout=10s');
    expect(request).toMatchObject({
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: DEPLOYMENTS,
      requestKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      requestResource: DEPLOYMENTS,
      name: 'web',
      namespace: 'team',
      operation: 'CREATE',
      userInfo: { username: 'alice' },
      object: { metadata: { name: 'web' } },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    });
    expect(request.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(request.subResource).toBeUndefined();
  });

  it('runs mutating webhooks in order, each seeing the previous result, then validating ones on the result', async () => {
    const store = storeWith({
      mutating: [webhook('a.tmc.dev', server.url('/add-label')), webhook('b.tmc.dev', server.url('/read-label'))],
      validating: [webhook('check.tmc.dev', server.url('/allow'))],
    });
    const outcome = await dispatcher.admit(attrs(store));
    expect(outcome).toMatchObject({ allowed: true, object: { metadata: { annotations: { seen: 'first' } } } });
    expect(server.calls.map((call) => call.path.split('?')[0])).toEqual(['/add-label', '/read-label', '/allow']);
    expect(server.calls[2].review.request.object.metadata.labels.mutated).toBe('first');
  });

  it.each([
    ['/deny', 400, 'admission webhook "check.tmc.dev" denied the request: replicas must be at least 2'],
    ['/deny-403', 403, 'admission webhook "check.tmc.dev" denied the request: not on Tuesdays'],
    ['/deny-bare', 400, 'admission webhook "check.tmc.dev" denied the request without explanation'],
  ])('a validating denial from %s answers %i with the kube-apiserver wording', async (path, code, message) => {
    const store = storeWith({ validating: [webhook('check.tmc.dev', server.url(path))] });
    expect(await dispatcher.admit(attrs(store))).toEqual({
      allowed: false,
      status: expect.objectContaining({ code, message }),
    });
  });

  describe('failurePolicy when the webhook fails', () => {
    let refusedUrl: string;
    beforeAll(async () => {
      refusedUrl = `http://127.0.0.1:${await closedPort()}/validate`;
    });

    it.each([
      [
        'connection refused',
        () => refusedUrl,
        10,
        /failed to call webhook: Post "http:\/\/127\.0\.0\.1:\d+\/validate\?timeout=10s": dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/,
      ],
      [
        'a timeout',
        () => server.url('/hang'),
        1,
        /failed to call webhook: Post ".*\/hang\?timeout=1s": context deadline exceeded$/,
      ],
      [
        'a 500 answer',
        () => server.url('/error'),
        10,
        /an error on the server \("boom"\) has prevented the request from succeeding$/,
      ],
      ['a body that is not JSON', () => server.url('/garbage'), 10, /json parse error/],
      [
        'a mismatched uid',
        () => server.url('/wrong-uid'),
        10,
        /received invalid webhook response: expected response.uid=".*", got "nope"$/,
      ],
    ])('Fail denies with 500 on %s; Ignore lets the request through', async (_case, url, timeoutSeconds, reason) => {
      const failing = storeWith({
        validating: [webhook('check.tmc.dev', url(), { failurePolicy: 'Fail', timeoutSeconds })],
      });
      const outcome = await dispatcher.admit(attrs(failing));
      expect(outcome).toEqual({
        allowed: false,
        status: { code: 500, reason: 'InternalError', message: expect.stringMatching(reason) },
      });
      expect(outcome.allowed === false && outcome.status.message).toMatch(
        /^Internal error occurred: failed calling webhook "check\.tmc\.dev": /,
      );

      const ignoring = storeWith({
        validating: [webhook('check.tmc.dev', url(), { failurePolicy: 'Ignore', timeoutSeconds })],
      });
      expect(await dispatcher.admit(attrs(ignoring))).toMatchObject({ allowed: true });
    });

    it('reports each call that fails open (Ignore), as kube-apiserver logs it; a call failing closed is the answer', async () => {
      const failures: WebhookFailOpen[] = [];
      const reporting = createAdmissionDispatcher({ onFailOpen: (failure) => failures.push(failure) });
      try {
        const store = storeWith({
          validating: [
            webhook('ignored.tmc.dev', refusedUrl, { failurePolicy: 'Ignore' }),
            webhook('fine.tmc.dev', server.url('/allow'), { failurePolicy: 'Ignore' }),
          ],
        });
        expect(await reporting.admit(attrs(store))).toMatchObject({ allowed: true });
        expect(failures).toEqual([
          {
            webhook: 'ignored.tmc.dev',
            reason: expect.stringMatching(/connect: connection refused$/),
            operation: 'CREATE',
            resource: 'deployments',
            namespace: 'team',
            name: 'web',
          },
        ]);
        const failing = storeWith({ validating: [webhook('check.tmc.dev', refusedUrl, { failurePolicy: 'Fail' })] });
        expect(await reporting.admit(attrs(failing))).toMatchObject({ allowed: false });
        expect(failures).toHaveLength(1);
      } finally {
        reporting.close();
      }
    });

    it('defaults failurePolicy to Fail', async () => {
      const store = storeWith({ mutating: [webhook('m.tmc.dev', refusedUrl)] });
      expect(await dispatcher.admit(attrs(store))).toMatchObject({ allowed: false, status: { code: 500 } });
    });
  });

  it.each([
    [['deployments/status'], 'status', true],
    [['deployments/status'], undefined, false],
    [['deployments'], 'status', false],
    [['deployments'], undefined, true],
    [['*/status'], 'status', true],
    [['*/status'], 'scale', false],
    [['*'], 'status', false],
    [['*/*'], 'status', true],
    [['deployments/*'], undefined, true],
    [['deployments/*'], 'scale', true],
    [['statefulsets'], undefined, false],
  ])('resources %j with subresource %s: called %s', async (resources, subResource, called) => {
    const store = storeWith({
      validating: [
        webhook('v.tmc.dev', server.url('/deny'), {
          rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources }],
        }),
      ],
    });
    const outcome = await dispatcher.admit(attrs(store, { subResource, operation: 'UPDATE', oldObject: deployment() }));
    expect(outcome.allowed).toBe(!called);
    if (called) expect(server.calls[0].review.request.subResource).toBe(subResource);
  });

  it.each([
    ['namespace matchLabels', { namespaceSelector: { matchLabels: { env: 'prod' } } }, 'team', {}, true],
    ['namespace matchLabels elsewhere', { namespaceSelector: { matchLabels: { env: 'prod' } } }, 'scratch', {}, false],
    [
      'namespace NotIn',
      { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] } },
      'scratch',
      {},
      true,
    ],
    [
      'namespace DoesNotExist',
      { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] } },
      'team',
      {},
      false,
    ],
    [
      'object Exists',
      { objectSelector: { matchExpressions: [{ key: 'tmc.dev/managed', operator: 'Exists' }] } },
      'team',
      { 'tmc.dev/managed': 'yes' },
      true,
    ],
    [
      'object Exists missing',
      { objectSelector: { matchExpressions: [{ key: 'tmc.dev/managed', operator: 'Exists' }] } },
      'team',
      {},
      false,
    ],
    [
      'object In',
      { objectSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] } },
      'team',
      { tier: 'api' },
      true,
    ],
    ['empty selectors', { namespaceSelector: {}, objectSelector: {} }, 'scratch', {}, true],
    [
      'the automatic metadata.name label',
      {
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'scratch'] },
          ],
        },
      },
      'scratch',
      {},
      false,
    ],
    [
      'the automatic metadata.name label elsewhere',
      {
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'scratch'] },
          ],
        },
      },
      'team',
      {},
      true,
    ],
  ])('%s (%j in namespace %s, labels %j): called %s', async (_case, selectors, namespace, labels, called) => {
    const store = storeWith({ validating: [webhook('v.tmc.dev', server.url('/deny'), selectors)] });
    const object = deployment(labels, namespace);
    const outcome = await dispatcher.admit(attrs(store, { namespace, object }));
    expect(outcome.allowed).toBe(!called);
  });

  it('matches objectSelector on the old object of a DELETE, which sends object null and DeleteOptions', async () => {
    const store = storeWith({
      validating: [
        webhook('v.tmc.dev', server.url('/allow'), {
          rules: [{ operations: ['DELETE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }],
          objectSelector: { matchLabels: { app: 'web' } },
        }),
      ],
    });
    await dispatcher.admit(
      attrs(store, { operation: 'DELETE', object: undefined, oldObject: deployment({ app: 'web' }) }),
    );
    expect(server.calls[0].review.request).toMatchObject({
      operation: 'DELETE',
      object: null,
      oldObject: { metadata: { name: 'web' } },
      options: { kind: 'DeleteOptions' },
    });
  });

  it('answers 404 when the namespace a selector needs does not exist', async () => {
    const store = storeWith({
      validating: [webhook('v.tmc.dev', server.url('/allow'), { namespaceSelector: { matchLabels: { env: 'prod' } } })],
    });
    expect(await dispatcher.admit(attrs(store, { namespace: 'ghost' }))).toEqual({
      allowed: false,
      status: { code: 404, reason: 'NotFound', message: 'namespaces "ghost" not found' },
    });
  });

  it.each([
    ['None', true],
    ['NoneOnDryRun', true],
    ['Some', false],
    ['Unknown', false],
  ])('dryRun with sideEffects %s: called %s, otherwise 400 without calling', async (sideEffects, called) => {
    const store = storeWith({ validating: [webhook('v.tmc.dev', server.url('/allow'), { sideEffects })] });
    const outcome = await dispatcher.admit(attrs(store, { dryRun: true }));
    if (called) {
      expect(outcome.allowed).toBe(true);
      expect(server.calls[0].review.request).toMatchObject({ dryRun: true, options: { dryRun: ['All'] } });
    } else {
      expect(outcome).toEqual({
        allowed: false,
        status: { code: 400, reason: 'BadRequest', message: 'admission webhook "v.tmc.dev" does not support dry run' },
      });
      expect(server.calls).toHaveLength(0);
    }
  });

  it('sends the bearer token credentialsFor returns, and only to that URL', async () => {
    const store = storeWith({
      validating: [webhook('a.tmc.dev', server.url('/secure')), webhook('b.tmc.dev', server.url('/open'))],
    });
    await dispatcher.admit(attrs(store));
    const byPath = Object.fromEntries(
      server.calls.map((call) => [call.path.split('?')[0], call.headers.authorization]),
    );
    expect(byPath).toEqual({ '/secure': 'Bearer s3cret', '/open': undefined });
  });

  it('passes warnings back', async () => {
    const store = storeWith({ validating: [webhook('w.tmc.dev', server.url('/warn'))] });
    expect(await dispatcher.admit(attrs(store))).toMatchObject({ allowed: true, warnings: ['spec.replicas is low'] });
  });

  it('never sends webhook configurations through webhooks', async () => {
    const store = storeWith({
      validating: [
        webhook('v.tmc.dev', server.url('/deny'), {
          rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }],
        }),
      ],
    });
    const outcome = await dispatcher.admit(
      attrs(store, {
        gvr: VALIDATING,
        kind: { group: 'admissionregistration.k8s.io', version: 'v1', kind: 'ValidatingWebhookConfiguration' },
        namespace: undefined,
        name: 'v',
      }),
    );
    expect(outcome.allowed).toBe(true);
    expect(server.calls).toHaveLength(0);
  });

  it.each([
    ['Cluster', undefined, true],
    ['Cluster', 'team', false],
    ['Namespaced', 'team', true],
    ['*', undefined, true],
  ])('scope %s for namespace %s: called %s', async (scope, namespace, called) => {
    const store = storeWith({
      validating: [
        webhook('v.tmc.dev', server.url('/deny'), {
          rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], scope }],
        }),
      ],
    });
    const gvr = namespace ? DEPLOYMENTS : NAMESPACES;
    const kind = namespace
      ? { group: 'apps', version: 'v1', kind: 'Deployment' }
      : { group: '', version: 'v1', kind: 'Namespace' };
    const object = namespace ? deployment() : { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } };
    const outcome = await dispatcher.admit(
      attrs(store, { gvr, kind, namespace, name: object.metadata.name ?? '', object }),
    );
    expect(outcome.allowed).toBe(!called);
  });

  it('reinvokes an IfNeeded webhook once a later webhook changed the object', async () => {
    const store = storeWith({
      mutating: [
        webhook('reader.tmc.dev', server.url('/read-label'), { reinvocationPolicy: 'IfNeeded' }),
        webhook('writer.tmc.dev', server.url('/add-label')),
      ],
    });
    const outcome = await dispatcher.admit(attrs(store));
    expect(server.calls.map((call) => call.path.split('?')[0])).toEqual(['/read-label', '/add-label', '/read-label']);
    expect(outcome).toMatchObject({ allowed: true, object: { metadata: { annotations: { seen: 'first' } } } });
  });

  describe('injected webhook-target faults', () => {
    it.each([
      [{ kind: 'refuse' as const }, /connect: connection refused$/],
      [{ kind: 'hang' as const }, /context deadline exceeded$/],
      [{ kind: 'latency' as const, ms: 5000 }, /context deadline exceeded$/],
      [{ kind: 'status' as const, code: 503 }, /an error on the server \("injected fault"\)/],
    ])('%j fails closed like the real failure', async (fault, reason) => {
      const faults = createWebhookFaultInjector();
      const faulty = createAdmissionDispatcher({ faults });
      faults.set(server.url('/'), fault);
      const store = storeWith({ validating: [webhook('v.tmc.dev', server.url('/allow'), { timeoutSeconds: 1 })] });
      const outcome = await faulty.admit(attrs(store));
      expect(outcome).toMatchObject({ allowed: false, status: { code: 500, message: expect.stringMatching(reason) } });
      expect(server.calls).toHaveLength(0);
      faults.clear();
      expect(await faulty.admit(attrs(store))).toMatchObject({ allowed: true });
      faulty.close();
    });

    it('adds latency below the timeout without failing', async () => {
      const faults = createWebhookFaultInjector();
      const slow = createAdmissionDispatcher({ faults });
      faults.set('*', { kind: 'latency', ms: 150 });
      const store = storeWith({ validating: [webhook('v.tmc.dev', server.url('/allow'))] });
      const started = Date.now();
      expect(await slow.admit(attrs(store))).toMatchObject({ allowed: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      slow.close();
    });
  });
});
