import { startSimUnderTest, type SimUnderTest } from './sim-harness';
import { kubectl } from '../../support/kubectl';

const CM = (name: string): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { a: '1' } });

// kcp logical clusters, fault injection and request counters, as the real kubectl sees them.
describe('simulator: kcp workspaces, faults and request counters with kubectl', () => {
  let sim: SimUnderTest;

  beforeAll(async () => {
    sim = await startSimUnderTest({ mode: 'kcp' });
  });
  afterEach(() => sim.server.faults.clear());
  afterAll(() => sim?.stop());

  it('isolates logical clusters: an object in root:default is invisible from root:other, also through --server', async () => {
    await sim.ok(['create', '-f', '-'], CM('only-here'));
    const other = sim.kubeconfigFor('root:other');
    expect((await kubectl(other, ['get', 'cm', '-o', 'name'])).stdout).not.toContain('only-here');
    const viaServer = await kubectl(sim.kubeconfig, [
      '--server',
      `${sim.server.url}/clusters/root:other`,
      'get',
      'cm',
      'only-here',
    ]);
    expect(viaServer.stderr).toMatch(/configmaps "only-here" not found/);
    expect(await sim.ok(['get', 'cm', 'only-here', '-o', 'jsonpath={.metadata.annotations.kcp\\.io/cluster}'])).toBe(
      'root:default',
    );
  });

  it('counts every request by verb, resource and logical cluster', async () => {
    sim.server.requests.reset();
    await sim.ok(['create', '-f', '-'], CM('counted'));
    await sim.ok(['get', 'cm', 'counted']);
    expect(
      sim.server.requests.count({ verb: 'create', resource: 'configmaps', logicalCluster: 'root:default', code: 201 }),
    ).toBe(1);
    expect(sim.server.requests.count({ verb: 'get', resource: 'configmaps', name: 'counted' })).toBe(1);
    expect(sim.server.requests.count({ writes: true })).toBe(1);
  });

  it('answers a throttled request with 429, Retry-After and a TooManyRequests Status', async () => {
    sim.server.faults.set({ throttle: { rate: 1, retryAfterSeconds: 7 } });
    const response = await fetch(`${sim.server.serverUrl('root:default')}/api/v1/namespaces/default/configmaps`);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toMatchObject({
      kind: 'Status',
      reason: 'TooManyRequests',
      code: 429,
      details: { retryAfterSeconds: 7 },
    });
  });

  it('fails requests with the configured 5xx at error rate 1, which kubectl reports', async () => {
    sim.server.faults.set({ errorRate: 1, errorCode: 503 });
    const r = await sim.run(['get', 'cm', 'counted', '--request-timeout=5s']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ServiceUnavailable|unable to handle the request/);
  });

  it('refuses connections while down and serves again when cleared', async () => {
    sim.server.faults.set({ down: true });
    const down = await sim.run(['get', 'cm', 'counted', '--request-timeout=5s']);
    expect(down.stderr).toMatch(/The connection to the server 127.0.0.1:\d+ was refused/);
    sim.server.faults.clear();
    expect(await sim.ok(['get', 'cm', 'counted', '-o', 'name'])).toContain('configmap/counted');
  });

  it('hangs requests during a partition until the client gives up', async () => {
    sim.server.faults.set({ partition: true });
    const hung = await sim.run(['get', 'cm', 'counted', '--request-timeout=1s']);
    expect(hung.code).not.toBe(0);
    expect(hung.stderr).toMatch(/Timeout|timeout|deadline/i);
  });

  it('takes faults over HTTP at /_sim/faults (zod-checked), and a partition does not cut that side channel off', async () => {
    const put = (body: unknown): Promise<Response> =>
      fetch(`${sim.server.url}/_sim/faults`, { method: 'PUT', body: JSON.stringify(body) });
    expect((await put({ errorRate: 2 })).status).toBe(400);
    expect(await (await put({ partition: true })).json()).toEqual({ partition: true });
    expect(sim.server.faults.current.partition).toBe(true);
    expect(await (await put({})).json()).toEqual({});
    expect(await sim.ok(['get', 'cm', 'counted', '-o', 'name'])).toContain('configmap/counted');
  });

  it('goes down over HTTP, which kubectl sees refused, and comes back when cleared through the admin port', async () => {
    expect((await fetch(`${sim.server.url}/_sim/faults`, { method: 'PUT', body: '{"down":true}' })).status).toBe(200);
    const down = await sim.run(['get', 'cm', 'counted', '--request-timeout=5s']);
    expect(down.stderr).toMatch(/The connection to the server 127.0.0.1:\d+ was refused/);
    expect((await fetch(`${sim.server.adminUrl}/_sim/faults`, { method: 'PUT', body: '{}' })).status).toBe(200);
    expect(await sim.ok(['get', 'cm', 'counted', '-o', 'name'])).toContain('configmap/counted');
  });

  it('lets kubectl see an empty list of one type while the rule lasts', async () => {
    sim.server.faults.set({ rules: [{ match: { verb: 'list', resource: 'configmaps' }, respond: 'empty', count: 1 }] });
    const empty = await sim.run(['get', 'cm']);
    expect(empty.code).toBe(0);
    expect(empty.stderr).toMatch(/No resources found in default namespace/);
    expect(await sim.ok(['get', 'cm', '-o', 'name'])).toContain('configmap/counted');
  });
});
