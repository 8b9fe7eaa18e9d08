import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type FaultSettings, seededRandom, type SimServer, startSimServer } from '../../../lib/sim';
import type { KubeObject } from '../../../lib/kube/object';
import * as build from '../../support/builders';
import { waitFor } from '../../support/wait';

const TMC_TOKEN = 'tmc-token';
const TMC_USER = 'system:serviceaccount:tmc-system:tmc';

const deployment = (name: string, namespace = 'default'): KubeObject =>
  build.deployment(name, { namespace, container: 'web', image: 'nginx:1.25' });
const configMap = (name: string, namespace = 'default'): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data: { a: '1' },
});
const secret = (name: string): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'default' },
  data: { k: 'dg==' },
});

function kubeConfigFor(server: SimServer, logicalCluster: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sim-faults', server: server.serverUrl(logicalCluster), skipTLSVerify: true }],
    users: [{ name: 'sim-faults', token: TMC_TOKEN }],
    contexts: [{ name: 'sim-faults', cluster: 'sim-faults', user: 'sim-faults' }],
    currentContext: 'sim-faults',
  });
  return kc;
}

/** The code of the network error under a failed fetch (ECONNRESET, ECONNREFUSED…), or the error's name. */
async function networkFailure(request: Promise<Response>): Promise<string> {
  try {
    const response = await request;
    return `answered ${response.status}`;
  } catch (err) {
    // fetch's errors come from Node's realm, not Jest's: read their fields rather than test `instanceof Error`.
    const cause: unknown = typeof err === 'object' && err !== null && 'cause' in err ? err.cause : undefined;
    if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string')
      return cause.code;
    return typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : String(err);
  }
}

/** Resolves once the server has a request in flight (a rule holds it), seen from its `hang` rule's counter. */
async function waitForRequest(server: SimServer): Promise<void> {
  await waitFor('the request to reach the server', async () => server.faults.state().rules?.[0]?.fired === 1);
}

// Per-request fault rules (docs/simulator.md, "Faults and request counters"), over real HTTP against one kcp.
describe('simulator fault rules', () => {
  let server: SimServer;
  const api = (path: string, init: RequestInit = {}, logicalCluster = 'root:default'): Promise<Response> =>
    fetch(`${server.serverUrl(logicalCluster)}${path}`, init);
  const post = (path: string, body: unknown, logicalCluster = 'root:default'): Promise<Response> =>
    api(
      path,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      logicalCluster,
    );
  const putFaults = (body: unknown, base = server.url): Promise<Response> =>
    fetch(`${base}/_sim/faults`, { method: 'PUT', body: JSON.stringify(body) });
  const getFaults = async (base = server.url): Promise<Record<string, any>> =>
    (await fetch(`${base}/_sim/faults`)).json() as Promise<Record<string, any>>;

  beforeAll(async () => {
    server = await startSimServer({ name: 'faults', mode: 'kcp' });
    server.createLogicalCluster('root:other');
    server.registerTokenUser(TMC_TOKEN, { username: TMC_USER });
    for (const lc of ['root:default', 'root:other']) {
      for (const name of ['web', 'api'])
        expect((await post('/apis/apps/v1/namespaces/default/deployments', deployment(name), lc)).status).toBe(201);
      expect((await post('/api/v1/namespaces/default/configmaps', configMap('cfg'), lc)).status).toBe(201);
    }
    expect((await post('/api/v1/namespaces/default/secrets', secret('creds'))).status).toBe(201);
  });
  afterEach(() => server.faults.clear());
  afterAll(() => server?.stop());

  it('answers "empty" with a complete, successful empty list for one type in one logical cluster, other lists unchanged', async () => {
    server.faults.set({
      rules: [
        {
          match: { verb: 'list', group: 'apps', resource: 'deployments', logicalCluster: 'root:default' },
          respond: 'empty',
        },
      ],
    });
    const response = await api('/apis/apps/v1/namespaces/default/deployments');
    expect(response.status).toBe(200);
    const list = (await response.json()) as {
      kind: string;
      apiVersion: string;
      metadata: { resourceVersion: string; continue?: string };
      items: unknown[];
    };
    expect(list).toMatchObject({ kind: 'DeploymentList', apiVersion: 'apps/v1', items: [] });
    expect(list.metadata.continue).toBeUndefined();
    // A valid resourceVersion: a watch from it is accepted (not 410) and it is the server's current one.
    expect(Number(list.metadata.resourceVersion)).toBeGreaterThan(0);
    const watchFrom = await api(
      `/apis/apps/v1/namespaces/default/deployments?watch=true&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=1`,
      {},
      'root:other',
    );
    expect(await watchFrom.text()).not.toContain('Expired');

    // The same type in another logical cluster and another type in the same one list as before.
    const other = (await (await api('/apis/apps/v1/namespaces/default/deployments', {}, 'root:other')).json()) as {
      items: unknown[];
    };
    expect(other.items).toHaveLength(2);
    const configMaps = (await (await api('/api/v1/namespaces/default/configmaps')).json()) as { items: unknown[] };
    expect(configMaps.items.length).toBeGreaterThan(0);
    // A get of one Deployment is not a list: the rule passes it by.
    expect((await api('/apis/apps/v1/namespaces/default/deployments/web')).status).toBe(200);
    expect((await getFaults()).rules[0]).toMatchObject({ respond: 'empty', fired: 1 });
  });

  it('makes @kubernetes/client-node see an empty list of Deployments while it lists ConfigMaps', async () => {
    server.faults.set({
      rules: [{ match: { verb: 'list', group: 'apps', resource: 'deployments' }, respond: 'empty' }],
    });
    const kc = kubeConfigFor(server, 'root:default');
    const deployments = await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: 'default' });
    expect(deployments.items).toEqual([]);
    expect(deployments.metadata?.resourceVersion).toMatch(/^\d+$/);
    const configMaps = await kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: 'default' });
    expect(configMaps.items.map((c) => c.metadata?.name)).toContain('cfg');
    server.faults.clear();
    expect((await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: 'default' })).items).toHaveLength(
      2,
    );
  });

  it('answers a watch under "empty" with a stream that stays open and sends nothing, where it would send events', async () => {
    const watch = (): Promise<Response> =>
      api('/apis/apps/v1/namespaces/default/deployments?watch=true&timeoutSeconds=1');
    server.faults.set({ rules: [{ match: { verb: 'watch', resource: 'deployments' }, respond: 'empty' }] });
    const silent = await watch();
    expect(silent.status).toBe(200);
    // Written while the stream is open: a watch would report it.
    expect((await post('/apis/apps/v1/namespaces/default/deployments', deployment('during-empty-watch'))).status).toBe(
      201,
    );
    expect(await silent.text()).toBe('');
    server.faults.clear();
    // The same watch without the rule: the initial ADDED events.
    expect(await (await watch()).text()).toContain('"type":"ADDED"');
  });

  it('answers 404 NotFound to GETs of Secrets, while Secrets still list and ConfigMaps still get', async () => {
    server.faults.set({ rules: [{ match: { verb: 'get', resource: 'secrets' }, respond: 404 }] });
    const response = await api('/api/v1/namespaces/default/secrets/creds');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'secrets "creds" not found',
      details: { name: 'creds', kind: 'secrets' },
    });
    expect((await api('/api/v1/namespaces/default/secrets')).status).toBe(200);
    expect((await api('/api/v1/namespaces/default/configmaps/cfg')).status).toBe(200);
    expect(server.requests.count({ verb: 'get', resource: 'secrets', name: 'creds', code: 404 })).toBe(1);
  });

  it('answers 503 and 429 as Kubernetes Status objects, 429 with Retry-After', async () => {
    server.faults.set({
      rules: [
        { match: { verb: 'list', group: 'scheduling.kcp.io' }, respond: 503 },
        { match: { verb: 'list', resource: 'configmaps' }, respond: 429, retryAfterSeconds: 3 },
        { match: { verb: 'list', resource: 'secrets' }, respond: 429 },
      ],
    });
    const unavailable = await api('/apis/scheduling.kcp.io/v1alpha1/placements');
    expect(unavailable.status).toBe(503);
    expect(await unavailable.json()).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    const throttled = await api('/api/v1/namespaces/default/configmaps');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('3');
    expect(await throttled.json()).toMatchObject({
      kind: 'Status',
      reason: 'TooManyRequests',
      code: 429,
      details: { retryAfterSeconds: 3 },
    });
    const byDefault = await api('/api/v1/namespaces/default/secrets');
    expect(byDefault.status).toBe(429);
    expect(byDefault.headers.get('retry-after')).toBe('1');
    expect((await getFaults()).rules.map((r: { fired: number }) => r.fired)).toEqual([1, 1, 1]);
  });

  it('answers 409 Conflict, 410 (a list Expired, a watch an ERROR event) and 500 with their reasons', async () => {
    server.faults.set({
      rules: [
        { match: { verb: 'create', resource: 'configmaps' }, respond: 409 },
        { match: { verb: 'list', resource: 'secrets' }, respond: 410 },
        { match: { verb: 'watch', resource: 'secrets' }, respond: 410 },
        { match: { verb: 'delete' }, respond: 500 },
      ],
    });
    const conflict = await post('/api/v1/namespaces/default/configmaps', configMap('never'));
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({ reason: 'Conflict', code: 409 });
    const expired = await api('/api/v1/namespaces/default/secrets');
    expect(expired.status).toBe(410);
    expect(await expired.json()).toMatchObject({ reason: 'Expired', code: 410 });
    const watch = await api('/api/v1/namespaces/default/secrets?watch=true&resourceVersion=1');
    expect(watch.status).toBe(200);
    const event = JSON.parse((await watch.text()).trim()) as { type: string; object: Record<string, unknown> };
    expect(event).toMatchObject({ type: 'ERROR', object: { kind: 'Status', reason: 'Expired', code: 410 } });
    const failed = await api('/api/v1/namespaces/default/configmaps/cfg', { method: 'DELETE' });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ reason: 'InternalError', code: 500 });
    expect(
      server.store('root:default').get({ group: '', version: 'v1', resource: 'configmaps' }, 'default', 'never'),
    ).toBeUndefined();
    expect(
      server.store('root:default').get({ group: '', version: 'v1', resource: 'configmaps' }, 'default', 'cfg'),
    ).toBeDefined();
  });

  it('applies a rule with a count to the next N matching requests, then expires it, and shows the remaining count', async () => {
    expect(
      (await putFaults({ rules: [{ match: { verb: 'get', resource: 'configmaps' }, respond: 404, count: 2 }] })).status,
    ).toBe(200);
    expect((await api('/api/v1/namespaces/default/configmaps')).status).toBe(200); // a list: not matched, not counted
    expect((await getFaults()).rules[0]).toMatchObject({ count: 2, remaining: 2, fired: 0 });
    expect((await api('/api/v1/namespaces/default/configmaps/cfg')).status).toBe(404);
    expect((await getFaults()).rules[0]).toMatchObject({ remaining: 1, fired: 1 });
    expect((await api('/api/v1/namespaces/default/configmaps/cfg')).status).toBe(404);
    expect((await api('/api/v1/namespaces/default/configmaps/cfg')).status).toBe(200);
    expect((await api('/api/v1/namespaces/default/configmaps/cfg')).status).toBe(200);
    expect((await getFaults()).rules[0]).toMatchObject({ remaining: 0, fired: 2 });
  });

  it('fires a rule with a probability as the seeded generator decides, the same way on every run of the seed', async () => {
    const rule = { match: { verb: 'get', resource: 'configmaps' }, respond: 503, probability: 0.5 } as const;
    const run = async (seed: number): Promise<number[]> => {
      expect((await putFaults({ seed, rules: [rule] })).status).toBe(200);
      const codes: number[] = [];
      for (let i = 0; i < 40; i++) codes.push((await api('/api/v1/namespaces/default/configmaps/cfg')).status);
      return codes;
    };
    const random = seededRandom(7);
    const expected = Array.from({ length: 40 }, () => (random() < 0.5 ? 503 : 200));
    const first = await run(7);
    expect(first).toEqual(expected);
    expect((await getFaults()).rules[0].fired).toBe(expected.filter((c) => c === 503).length);
    expect(await run(7)).toEqual(first);
    expect(first.filter((c) => c === 503).length).toBeGreaterThan(5);
    expect(first.filter((c) => c === 200).length).toBeGreaterThan(5);
    // The seed drives the server-wide rates too.
    server.faults.set({ seed: 11, errorRate: 0.5, errorCode: 503 });
    const rates = seededRandom(11);
    const expectedRates = Array.from({ length: 20 }, () => (rates() < 0.5 ? 503 : 200));
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) seen.push((await api('/api/v1/namespaces/default/configmaps/cfg')).status);
    expect(seen).toEqual(expectedRates);
    // A rule whose probability passed it by leaves the request to the next rule.
    server.faults.set({
      rules: [
        { ...rule, probability: 0 },
        { match: { verb: 'get' }, respond: 404 },
      ],
    });
    expect((await api('/api/v1/namespaces/default/configmaps/cfg')).status).toBe(404);
  });

  it('matches the authenticated username and a User-Agent substring, so a test can hit only tmc', async () => {
    server.faults.set({
      rules: [
        { match: { username: TMC_USER, resource: 'configmaps' }, respond: 503 },
        { match: { userAgent: 'chaos-probe', resource: 'secrets' }, respond: 500 },
      ],
    });
    const asTmc = await api('/api/v1/namespaces/default/configmaps', {
      headers: { authorization: `Bearer ${TMC_TOKEN}` },
    });
    expect(asTmc.status).toBe(503);
    expect((await api('/api/v1/namespaces/default/configmaps')).status).toBe(200); // anonymous
    expect(
      (await api('/api/v1/namespaces/default/configmaps', { headers: { authorization: 'Bearer someone-else' } }))
        .status,
    ).toBe(200);
    expect(
      (await api('/api/v1/namespaces/default/secrets', { headers: { 'user-agent': 'tmc/1.0 chaos-probe' } })).status,
    ).toBe(500);
    expect(
      (await api('/api/v1/namespaces/default/secrets', { headers: { 'user-agent': 'kubectl/v1.32.0' } })).status,
    ).toBe(200);
  });

  it('hangs a matching request until the client gives up', async () => {
    server.faults.set({ rules: [{ match: { verb: 'get', resource: 'configmaps' }, respond: 'hang' }] });
    expect(
      await networkFailure(api('/api/v1/namespaces/default/configmaps/cfg', { signal: AbortSignal.timeout(500) })),
    ).toBe('TimeoutError');
    expect((await getFaults()).rules[0].fired).toBe(1);
    // Other requests are answered meanwhile.
    expect((await api('/api/v1/namespaces/default/configmaps')).status).toBe(200);
  });

  it('ends a hung request when the server stops', async () => {
    const other = await startSimServer({
      name: 'hang-then-stop',
      mode: 'cluster',
      workloads: { readyDelayMs: 60_000 },
    });
    other.faults.set({ rules: [{ respond: 'hang' }] });
    const hung = networkFailure(fetch(`${other.url}/api/v1/namespaces/default/configmaps`));
    await waitForRequest(other);
    await other.stop();
    expect(await hung).not.toMatch(/^answered/);
  });

  it('resets the connection of a matching request', async () => {
    server.faults.set({ rules: [{ match: { verb: 'list', resource: 'configmaps' }, respond: 'reset' }] });
    expect(await networkFailure(api('/api/v1/namespaces/default/configmaps'))).toBe('ECONNRESET');
    expect((await api('/api/v1/namespaces/default/configmaps/cfg')).status).toBe(200);
    expect(server.requests.count({ verb: 'list', resource: 'configmaps', code: 0 })).toBeGreaterThanOrEqual(1);
  });

  it('takes rules and server-wide settings over HTTP, answers them with counters, and clears everything with {}', async () => {
    const state: FaultSettings = {
      latencyMs: 1,
      throttle: { rate: 0, retryAfterSeconds: 2 },
      seed: 3,
      rules: [
        {
          match: { verb: 'list', group: 'apps', resource: 'deployments', logicalCluster: 'root:default' },
          respond: 'empty',
        },
        { match: { verb: 'get', resource: 'secrets' }, respond: 404 },
        { match: { verb: 'list', group: 'scheduling.kcp.io' }, respond: 503 },
      ],
    };
    const put = await putFaults(state);
    expect(put.status).toBe(200);
    const expected = { ...state, rules: state.rules!.map((r) => ({ ...r, fired: 0 })) };
    expect(await put.json()).toEqual(expected);
    expect(await getFaults()).toEqual(expected);
    expect(server.faults.current).toEqual(state);
    // The admin port answers the same state.
    expect(await getFaults(server.adminUrl)).toEqual(expected);

    const cleared = await putFaults({});
    expect(await cleared.json()).toEqual({});
    expect(await getFaults()).toEqual({});
    expect((await api('/apis/apps/v1/namespaces/default/deployments')).status).toBe(200);
  });

  it.each([
    [{ rules: [{ respond: 'nothing' }] }, 'rules.0.respond'],
    [{ rules: [{ match: { verb: 'fetch' }, respond: 404 }] }, 'rules.0.match.verb'],
    [{ rules: [{ match: { kind: 'Deployment' }, respond: 404 }] }, 'rules.0.match'],
    [{ rules: [{ match: { verb: 'get' }, respond: 'empty' }] }, 'rules.0.respond'],
    [{ rules: [{ respond: 503, probability: 1.5 }] }, 'rules.0.probability'],
    [{ rules: [{ respond: 503, count: 0 }] }, 'rules.0.count'],
    [{ rules: [{ respond: 404, retryAfterSeconds: 2 }] }, 'rules.0.retryAfterSeconds'],
    [{ errorRate: 2 }, 'errorRate'],
    [{ lag: 5 }, '(root)'],
  ])('refuses %j with 400 naming %s, and keeps the state it had', async (body, field) => {
    server.faults.set({ rules: [{ respond: 404, match: { name: 'kept' } }] });
    const response = await putFaults(body);
    expect(response.status).toBe(400);
    const status = (await response.json()) as { reason: string; message: string };
    expect(status.reason).toBe('BadRequest');
    expect(status.message).toContain(`${field}:`);
    expect(server.faults.current).toEqual({ rules: [{ respond: 404, match: { name: 'kept' } }] });
  });

  it('goes down over HTTP (connection refused) and comes back when cleared through the admin port', async () => {
    const put = await putFaults({ down: true });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ down: true });
    expect(await networkFailure(api('/api/v1/namespaces/default/configmaps'))).toBe('ECONNREFUSED');
    const info = (await (await fetch(`${server.adminUrl}/_sim/info`)).json()) as { url: string; adminUrl: string };
    expect(info).toMatchObject({ url: server.url, adminUrl: server.adminUrl });
    expect(await getFaults(server.adminUrl)).toEqual({ down: true });
    expect((await putFaults({}, server.adminUrl)).status).toBe(200);
    expect((await api('/api/v1/namespaces/default/configmaps')).status).toBe(200);
    // The admin port serves only the side channel.
    expect((await fetch(`${server.adminUrl}/api/v1/namespaces/default/configmaps`)).status).toBe(404);
  });
});
