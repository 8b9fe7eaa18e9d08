import { startSimUnderTest, type SimUnderTest } from './sim-harness';

/**
 * Issue 17's everyday kubectl answers: `kubectl auth can-i` (a SelfSubjectAccessReview, sent as protobuf) answered by
 * the RBAC evaluation requests get (static tokens are admins; ServiceAccounts and impersonated users get what their
 * bindings allow), TokenReviews and Bindings as kube-apiserver serves them, and the standard kinds an application
 * install contains.
 */
describe('simulator: kubectl auth can-i, TokenReview, Binding and the standard kinds', () => {
  let sim: SimUnderTest;
  beforeAll(async () => {
    sim = await startSimUnderTest();
  });
  afterAll(() => sim?.stop());

  const canI = async (args: string[]): Promise<string> => {
    const r = await sim.run(['auth', 'can-i', ...args]);
    return r.stdout.trim();
  };
  const BOT = 'system:serviceaccount:shop:bot';

  it('answers can-i yes for a static token (an admin here) and stores no review', async () => {
    expect(await canI(['create', 'deployments', '-n', 'shop'])).toBe('yes');
    expect(await canI(['get', '/healthz'])).toBe('yes');
    expect(await sim.ok(['auth', 'can-i', '--list'])).toMatch(/\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
    const review = JSON.parse(
      await sim.ok(
        ['create', '-o', 'json', '-f', '-'],
        JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: 'get', resource: 'pods' } },
        }),
      ),
    ) as { status?: { allowed?: boolean; reason?: string } };
    expect(review.status).toMatchObject({ allowed: true, reason: "the simulator's static tokens are admins" });
    expect(
      sim.server.store().list({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews' }),
    ).toEqual([]);
  });

  it('answers can-i for a ServiceAccount from its RoleBindings and ClusterRoleBindings, as requests are authorized', async () => {
    await sim.ok(['create', 'namespace', 'shop']);
    await sim.ok(['create', 'serviceaccount', 'bot', '-n', 'shop']);
    expect(await canI(['list', 'pods', '-n', 'shop', '--as', BOT])).toBe('no');
    await sim.ok(['create', 'clusterrole', 'pod-reader', '--verb=get,list,watch', '--resource=pods']);
    await sim.ok([
      'create',
      'rolebinding',
      'bot-reads',
      '-n',
      'shop',
      '--clusterrole=pod-reader',
      '--serviceaccount=shop:bot',
    ]);
    await sim.ok(['create', 'clusterrole', 'node-reader', '--verb=get', '--resource=nodes']);
    await sim.ok([
      'create',
      'clusterrolebinding',
      'bot-nodes',
      '--clusterrole=node-reader',
      '--serviceaccount=shop:bot',
    ]);
    expect(await canI(['list', 'pods', '-n', 'shop', '--as', BOT])).toBe('yes');
    expect(await canI(['delete', 'pods', '-n', 'shop', '--as', BOT])).toBe('no');
    expect(await canI(['list', 'pods', '-n', 'other', '--as', BOT])).toBe('no');
    expect(await canI(['get', 'nodes', '--as', BOT])).toBe('yes');
    // The same evaluation decides the requests themselves.
    await sim.ok(['get', 'pods', '-n', 'shop', '--as', BOT]);
    const refused = await sim.run(['get', 'pods', '-n', 'other', '--as', BOT]);
    expect(refused.stderr).toContain(
      `pods is forbidden: User "${BOT}" cannot list resource "pods" in API group "" in the namespace "other"`,
    );
    const rules = await sim.ok(['auth', 'can-i', '--list', '-n', 'shop', '--as', BOT]);
    expect(rules).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(rules).toMatch(/^nodes\s+\[\]\s+\[\]\s+\[get\]$/m);
    expect(rules).not.toMatch(/\*\.\*/);

    // The holder of a token issued to the ServiceAccount gets the same answers, with kube's reason.
    const token = (await sim.ok(['create', 'token', 'bot', '-n', 'shop'])).trim();
    const asBot = await fetch(`${sim.server.url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace: 'shop', verb: 'list', resource: 'pods' } },
      }),
    });
    expect(asBot.status).toBe(201);
    expect(((await asBot.json()) as { status: unknown }).status).toEqual({
      allowed: true,
      reason: `RBAC: allowed by RoleBinding "bot-reads/shop" of ClusterRole "pod-reader" to ServiceAccount "shop/bot"`,
    });

    // A SubjectAccessReview about the ServiceAccount (a webhook's or an aggregated API server's question).
    const sar = JSON.parse(
      await sim.ok(
        ['create', '-o', 'json', '-f', '-'],
        JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: BOT,
            groups: ['system:serviceaccounts'],
            resourceAttributes: { verb: 'delete', resource: 'nodes' },
          },
        }),
      ),
    ) as { status?: { allowed?: boolean } };
    expect(sar.status).toEqual({ allowed: false });
  });

  it('answers a TokenReview: an issued token is its ServiceAccount, an unknown one is not authenticated', async () => {
    const token = (await sim.ok(['create', 'token', 'bot', '-n', 'shop'])).trim();
    const review = (t: string): Promise<string> =>
      sim.ok(
        ['create', '-o', 'jsonpath={.status}', '-f', '-'],
        JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: t } }),
      );
    expect(JSON.parse(await review(token))).toEqual({
      authenticated: true,
      audiences: ['https://kubernetes.default.svc'],
      user: {
        username: BOT,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'],
      },
    });
    expect(JSON.parse(await review('not-a-token'))).toEqual({
      user: {},
      error: '[invalid bearer token, token lookup failed]',
    });
    expect((await sim.run(['get', 'tokenreviews'])).stderr).toContain('(MethodNotAllowed)');
  });

  it('binds a Pod to a Node (Binding and pods/binding), once', async () => {
    await sim.ok(['run', 'unscheduled', '--image=nginx', '-n', 'shop']);
    const binding = (node: string): string =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: 'unscheduled', namespace: 'shop' },
        target: { kind: 'Node', name: node },
      });
    expect(await sim.ok(['create', '-o', 'jsonpath={.status}', '-f', '-'], binding('node-1'))).toBe('Success');
    expect(await sim.ok(['get', 'pod', 'unscheduled', '-n', 'shop', '-o', 'jsonpath={.spec.nodeName}'])).toBe('node-1');
    const again = await sim.run(['create', '-f', '-'], binding('node-2'));
    expect(again.stderr).toContain(
      'Operation cannot be fulfilled on pods/binding "unscheduled": pod unscheduled is already assigned to node "node-1"',
    );
    await sim.ok(['run', 'second', '--image=nginx', '-n', 'shop']);
    const res = await fetch(`${sim.server.url}/api/v1/namespaces/shop/pods/second/binding`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'second' }, target: { name: 'node-2' } }),
    });
    expect(res.status).toBe(201);
    expect(await sim.ok(['get', 'pod', 'second', '-n', 'shop', '-o', 'jsonpath={.spec.nodeName}'])).toBe('node-2');
    expect((await sim.run(['get', 'bindings', '-n', 'shop'])).stderr).toContain('(MethodNotAllowed)');
    expect(await sim.ok(['api-resources', '--verbs=create', '-o', 'name'])).toContain('bindings\n');
  });

  it.each([
    ['priorityclasses', 'scheduling.k8s.io'],
    ['runtimeclasses', 'node.k8s.io'],
    ['csidrivers', 'storage.k8s.io'],
    ['events', 'events.k8s.io'],
    ['endpointslices', 'discovery.k8s.io'],
  ])('serves %s.%s', async (resource, group) => {
    expect(await sim.ok(['api-resources', `--api-group=${group}`, '-o', 'name'])).toContain(`${resource}.${group}`);
  });

  it('stores a PriorityClass applied with kubectl', async () => {
    await sim.ok(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name: 'urgent' },
        value: 1000,
      }),
    );
    expect(await sim.ok(['get', 'priorityclass', 'urgent', '-o', 'jsonpath={.value}'])).toBe('1000');
  });
});
