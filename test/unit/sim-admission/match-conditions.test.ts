import { createAdmissionDispatcher } from '../../../lib/sim/admission';
import { startSimServer, type SimServer } from '../../../lib/sim';
import type { KubeObject } from '../../../lib/kube/object';
import type { AdmissionAttributes } from '../../../lib/sim/contracts';
import { compileMatchConditions } from '../../../lib/sim/admission/match-conditions';
import { DEFAULT_TMC_USER, workloadsWebhook, NOT_AN_EVENT } from '../../../lib/webhooks';
import { FakeClusterStore } from '../sim-controllers/fake-cluster-store';
import { allow, jsonPatch, startWebhookServer } from './webhook-test-server';
import * as build from '../../support/builders';

const MUTATING = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'mutatingwebhookconfigurations' };
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };

const configMap = (data: Record<string, unknown> = {}): KubeObject =>
  build.configMap('settings', { namespace: 'team', labels: { app: 'web' }, data });

/** Alice changes `data.a` of a ConfigMap: the request every case starts from. */
const UPDATE_BY_ALICE: Omit<AdmissionAttributes, 'store'> = {
  operation: 'UPDATE',
  gvr: CONFIGMAPS,
  kind: { group: '', version: 'v1', kind: 'ConfigMap' },
  namespace: 'team',
  name: 'settings',
  object: configMap({ a: 'new' }),
  oldObject: configMap({ a: 'old' }),
  userInfo: { username: 'alice', groups: ['system:authenticated'] },
  dryRun: false,
};

const request = (store: FakeClusterStore, overrides: Partial<AdmissionAttributes> = {}): AdmissionAttributes => ({
  ...UPDATE_BY_ALICE,
  store,
  ...overrides,
});

/** A mutating webhook on ConfigMaps with these conditions. */
function conditioned(
  name: string,
  url: string,
  matchConditions: Array<{ name: string; expression: string }>,
  failurePolicy = 'Fail',
): Record<string, unknown> {
  return {
    name,
    clientConfig: { url },
    rules: [{ operations: ['*'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
    matchConditions,
    failurePolicy,
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
  };
}

function storeWith(webhooks: Array<Record<string, unknown>>): FakeClusterStore {
  const store = new FakeClusterStore();
  store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  store.create(MUTATING, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'm' },
    webhooks,
  });
  return store;
}

describe('webhook matchConditions in the simulator', () => {
  let server: Awaited<ReturnType<typeof startWebhookServer>>;
  const dispatcher = createAdmissionDispatcher();
  const paths = (): string[] => server.calls.map((call) => call.path.split('?')[0]);

  beforeAll(async () => {
    server = await startWebhookServer((review, path) =>
      path === '/label'
        ? jsonPatch(review, [{ op: 'add', path: '/metadata/labels/stamped', value: 'yes' }])
        : allow(review),
    );
  });
  afterAll(async () => {
    dispatcher.close();
    await server.close();
  });
  beforeEach(() => server.calls.splice(0));

  it('calls the webhook only when every condition is true, over request, object and oldObject', async () => {
    const store = storeWith([
      conditioned('true.tmc.dev', server.url('/true'), [
        {
          name: 'user',
          expression: "request.userInfo.username == 'alice' && 'system:authenticated' in request.userInfo.groups",
        },
        { name: 'changed', expression: 'object.data.a != oldObject.data.a' },
        { name: 'labelled', expression: "has(object.metadata.labels) && object.metadata.labels['app'] == 'web'" },
        {
          name: 'kind',
          expression:
            "request.kind.kind == 'ConfigMap' && request.operation == 'UPDATE' && request.namespace == 'team'",
        },
      ]),
      conditioned('false.tmc.dev', server.url('/false'), [
        { name: 'user', expression: "request.userInfo.username == 'alice'" },
        { name: 'bob-only', expression: "request.userInfo.username == 'bob'" },
      ]),
    ]);
    await expect(dispatcher.admit(request(store))).resolves.toMatchObject({ allowed: true });
    expect(paths()).toEqual(['/true']);
  });

  it('binds JSON whole numbers as CEL ints and an absent oldObject as null', async () => {
    const store = storeWith([
      conditioned('ints.tmc.dev', server.url('/ints'), [
        { name: 'replicas', expression: 'object.data.n + 1 == 4 && oldObject == null' },
      ]),
    ]);
    await dispatcher.admit(request(store, { operation: 'CREATE', object: configMap({ n: 3 }), oldObject: undefined }));
    expect(paths()).toEqual(['/ints']);
  });

  it('binds the objects a condition reads, also beside a comprehension variable of the same name', async () => {
    const store = storeWith([
      conditioned('shadowed.tmc.dev', server.url('/shadowed'), [
        { name: 'request-only', expression: "request.operation == 'UPDATE'" },
        // `object` inside all() is the loop's; the one after it is the request's object, which must be bound.
        { name: 'loop', expression: "[1, 2].all(object, object > 0) && object.data.a == 'new'" },
      ]),
      conditioned('old.tmc.dev', server.url('/old'), [
        { name: 'loop-only', expression: '[1].exists(oldObject, oldObject == 1)' },
        { name: 'old', expression: "oldObject.data.a == 'old'" },
      ]),
    ]);
    await expect(dispatcher.admit(request(store))).resolves.toMatchObject({ allowed: true });
    expect(paths().sort()).toEqual(['/old', '/shadowed']);
  });

  it('sees the object as the earlier mutating webhooks left it', async () => {
    const store = storeWith([
      conditioned('label.tmc.dev', server.url('/label'), []),
      conditioned('after.tmc.dev', server.url('/after'), [
        { name: 'stamped', expression: 'has(object.metadata.labels.stamped)' },
      ]),
    ]);
    await expect(dispatcher.admit(request(store))).resolves.toMatchObject({
      allowed: true,
      object: { metadata: { labels: { stamped: 'yes' } } },
    });
    expect(paths()).toEqual(['/label', '/after']);
  });

  it('skips on a false condition even when another errors; an error alone follows failurePolicy', async () => {
    const missing = { name: 'missing', expression: 'object.data.nope == 1' };
    const store = storeWith([
      conditioned('false-wins.tmc.dev', server.url('/false-wins'), [missing, { name: 'no', expression: 'false' }]),
      conditioned('ignore.tmc.dev', server.url('/ignore'), [missing], 'Ignore'),
    ]);
    await expect(dispatcher.admit(request(store))).resolves.toMatchObject({ allowed: true });
    expect(paths()).toEqual([]);

    const failing = storeWith([conditioned('fail.tmc.dev', server.url('/fail'), [missing])]);
    const outcome = await dispatcher.admit(request(failing));
    expect(outcome).toMatchObject({ allowed: false, status: { code: 500, reason: 'InternalError' } });
    expect(outcome.allowed === false && outcome.status.message).toMatch(
      /^Internal error occurred: failed calling webhook "fail.tmc.dev": failed to evaluate match condition: expression 'missing' resulted in error: /,
    );
    expect(paths()).toEqual([]);
  });

  it("tmc's workloads webhook skips tmc's own updates, and nothing else", async () => {
    const installed = workloadsWebhook({ apiUrl: server.url('') }, 'root:org:ws') as KubeObject & {
      webhooks: Array<Record<string, unknown>>;
    };
    const store = storeWith(installed.webhooks);
    const tmc = { username: DEFAULT_TMC_USER, groups: ['system:serviceaccounts', 'system:authenticated'] };
    await dispatcher.admit(request(store, { userInfo: tmc }));
    expect(server.calls).toHaveLength(0);
    await dispatcher.admit(request(store));
    await dispatcher.admit(request(store, { userInfo: tmc, operation: 'CREATE', oldObject: undefined }));
    await dispatcher.admit(request(store, { userInfo: tmc, operation: 'DELETE', object: undefined }));
    expect(
      server.calls.map((call) => `${call.review.request.operation} ${call.review.request.userInfo.username}`),
    ).toEqual(['UPDATE alice', `CREATE ${DEFAULT_TMC_USER}`, `DELETE ${DEFAULT_TMC_USER}`]);

    const everyone = workloadsWebhook({ apiUrl: server.url('') }, 'root:org:ws', '') as KubeObject & {
      webhooks: Array<Record<string, unknown>>;
    };
    expect(everyone.webhooks[0].matchConditions).toEqual([NOT_AN_EVENT]);
  });

  it("tmc's workloads webhook is not called for Events, in either API group, by anyone (tmc records them)", async () => {
    const installed = workloadsWebhook({ apiUrl: server.url('') }, 'root:org:ws') as KubeObject & {
      webhooks: Array<Record<string, unknown>>;
    };
    const store = storeWith(installed.webhooks);
    const tmc = { username: DEFAULT_TMC_USER, groups: ['system:serviceaccounts', 'system:authenticated'] };
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'settings.1', namespace: 'team' },
      involvedObject: { kind: 'ConfigMap', name: 'settings', namespace: 'team' },
      reason: 'Applied',
      message: 'Applied to east',
    } as KubeObject;
    for (const group of ['', 'events.k8s.io'])
      for (const userInfo of [tmc, UPDATE_BY_ALICE.userInfo])
        await dispatcher.admit(
          request(store, {
            userInfo,
            operation: 'CREATE',
            gvr: { group, version: 'v1', resource: 'events' },
            kind: { group, version: 'v1', kind: 'Event' },
            name: 'settings.1',
            object: event,
            oldObject: undefined,
          }),
        );
    expect(server.calls).toHaveLength(0);
    // A ConfigMap created by the same users still is.
    await dispatcher.admit(request(store, { operation: 'CREATE', oldObject: undefined }));
    expect(server.calls).toHaveLength(1);
  });
});

describe('compiled matchConditions: the variables each reads (only those are converted per request)', () => {
  it.each([
    ["request.operation == 'CREATE'", ['request']],
    ['has(object.spec) && oldObject == null', ['object', 'oldObject']],
    ['[1, 2].all(object, object > 0)', []],
    ["[1].all(x, x > 0) && object.metadata.name == 'a'", ['object']],
    ["[1].map(request, request + 1) == [2] && request.kind.kind == 'ConfigMap'", ['request']],
    ['authorizer.path("/x").check("get").allowed()', ['authorizer']],
  ])('%s reads %j', (expression, reads) => {
    const [compiled] = compileMatchConditions([{ name: 'c', expression }]);
    expect(compiled.error).toBeUndefined();
    expect([...(compiled.reads ?? [])].sort()).toEqual(reads);
  });
});

describe('webhook configurations with matchConditions, as the simulated API server stores them', () => {
  let sim: SimServer;
  beforeAll(async () => {
    sim = await startSimServer({ name: 'conditions', mode: 'cluster', port: 0 });
  });
  afterAll(async () => sim.stop());

  const create = async (matchConditions: unknown): Promise<{ status: number; body: Record<string, any> }> => {
    const body = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: `cfg-${Math.random().toString(36).slice(2, 8)}` },
      webhooks: [
        {
          name: 'ok.tmc.dev',
          clientConfig: { url: 'https://127.0.0.1:1/x' },
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          matchConditions,
        },
      ],
    };
    const response = await fetch(`${sim.url}/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it('accepts conditions that compile', async () => {
    expect((await create([{ name: 'not-tmc', expression: "request.userInfo.username != 'tmc'" }])).status).toBe(201);
  });

  it('refuses CEL that does not compile with a 422 naming the field', async () => {
    const syntax = await create([{ name: 'broken', expression: "request.userInfo.username == 'tmc' &&" }]);
    expect(syntax.status).toBe(422);
    expect(syntax.body.reason).toBe('Invalid');
    expect(syntax.body.details.causes[0].field).toBe('webhooks[0].matchConditions[0].expression');
    expect(syntax.body.message).toContain(
      'webhooks[0].matchConditions[0].expression: Invalid value: "request.userInfo.username == \'tmc\' &&": compilation failed: ERROR: <input>:1:',
    );

    const undeclared = await create([
      { name: 'ok', expression: 'true' },
      { name: 'typo', expression: "requets.userInfo.username == 'tmc'" },
    ]);
    expect(undeclared.status).toBe(422);
    expect(undeclared.body.message).toContain(
      "webhooks[0].matchConditions[1].expression: Invalid value: \"requets.userInfo.username == 'tmc'\": compilation failed: ERROR: <input>:1:1: undeclared reference to 'requets'",
    );
  });

  it('refuses missing, duplicate and malformed names and empty expressions', async () => {
    const bad = await create([
      { name: 'same', expression: 'true' },
      { name: 'same', expression: 'true' },
      { name: 'no spaces', expression: 'true' },
      { name: 'empty', expression: '' },
    ]);
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes.map((c: { field: string }) => c.field)).toEqual([
      'webhooks[0].matchConditions[1].name',
      'webhooks[0].matchConditions[2].name',
      'webhooks[0].matchConditions[3].expression',
    ]);
  });
});
