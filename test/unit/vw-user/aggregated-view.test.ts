import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeApiHandler } from '../../../lib/api-http/api-router';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import { StaticTokenSource } from '../../../lib/auth/token-source';
import { WebhookAuthenticator } from '../../../lib/auth/webhook-authenticator';
import { InMemoryHealthStore } from '../../../lib/ports/health-store';
import type { ClusterStatusRecord } from '../../../lib/ports/status-store';
import type { ClusterListOptions, DecisionView, SyncRecord, SyncState } from '../../../lib/ports/sync-state-store';
import type { AggregatedViewStores } from '../../../lib/vw-user/list-copies';
import { loadEvent } from '../../support/events';

const WS = 'root:default';
const VIEW = `/services/aggregated/clusters/${WS}`;
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
const AGGREGATED_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

function deploymentRef(namespace: string, name: string): ObjectRef {
  return {
    workspace: WS,
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespace,
    name,
    uid: `uid-${name}`,
  };
}

/** In-memory stores with gsi1's order and key conditions, counting every read. */
class FakeStores implements AggregatedViewStores {
  readonly records: SyncRecord[] = [];
  readonly statusRecords = new Map<string, ClusterStatusRecord>();
  readonly decisions = new Map<string, DecisionView>();
  readonly failing = new Set<string>();
  readonly calls = {
    knownClusters: 0,
    listForCluster: [] as Array<{ cluster: string; options: ClusterListOptions }>,
    readMany: 0,
    getMany: 0,
  };
  clusters = ['east', 'west', 'edge'];

  place(
    ref: ObjectRef,
    shares: Record<string, number>,
    opts: { state?: SyncState; status?: Record<string, unknown>; observedAt?: string } = {},
  ): void {
    this.decisions.set(objectKey(ref), {
      decisionVersion: 1,
      clusters: Object.entries(shares).map(([name, replicas]) => ({ name, replicas })),
    });
    for (const cluster of Object.keys(shares)) {
      this.records.push({
        ref,
        cluster,
        state: opts.state ?? 'applied',
        decisionVersion: 1,
        appliedGeneration: 1,
        updatedAt: '2026-01-01T00:00:00Z',
      });
      if (opts.status)
        this.statusRecords.set(`${objectKey(ref)}#${cluster}`, {
          ref,
          cluster,
          status: opts.status,
          resourceVersion: '7',
          observedAt: opts.observedAt ?? new Date(Date.now() - 42_000).toISOString(),
        });
    }
  }

  readonly syncState: AggregatedViewStores['syncState'] = {
    knownClusters: async () => {
      this.calls.knownClusters += 1;
      return [...this.clusters];
    },
    listForCluster: async (cluster, options = {}) => {
      this.calls.listForCluster.push({ cluster, options });
      if (this.failing.has(cluster)) throw new Error(`${cluster} partition throttled`);
      const keys = this.records
        .filter((r) => r.cluster === cluster)
        .filter((r) => options.prefix === undefined || objectKey(r.ref).startsWith(options.prefix))
        .filter((r) => options.after === undefined || objectKey(r.ref) > options.after)
        .sort((a, b) => (objectKey(a.ref) < objectKey(b.ref) ? -1 : 1));
      return options.limit === undefined ? keys : keys.slice(0, options.limit);
    },
    readMany: async (keys) => {
      this.calls.readMany += 1;
      return {
        decisions: new Map(keys.decisions.map((ref) => [objectKey(ref), this.decisions.get(objectKey(ref))])),
        records: new Map(),
      };
    },
    decision: async (ref) => this.decisions.get(objectKey(ref)),
  };

  readonly statuses: AggregatedViewStores['statuses'] = {
    getMany: async (refs, cluster) => {
      this.calls.getMany += 1;
      return new Map(refs.map((ref) => [objectKey(ref), this.statusRecords.get(`${objectKey(ref)}#${cluster}`)]));
    },
    get: async (ref, cluster) => this.statusRecords.get(`${objectKey(ref)}#${cluster}`),
  };
}

function request(
  path: string,
  opts: { method?: string; accept?: string; query?: Record<string, string>; token?: string | null } = {},
): APIGatewayProxyEventV2 {
  const base = loadEvent<APIGatewayProxyEventV2>('api', 'aggregated-view-list.json');
  const headers: Record<string, string> = { ...base.headers, accept: opts.accept ?? 'application/json' };
  if (opts.token === null) delete headers.authorization;
  else if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const query = opts.query ?? {};
  return {
    ...base,
    rawPath: `${VIEW}${path}`,
    rawQueryString: new URLSearchParams(query).toString(),
    queryStringParameters: query,
    headers,
    requestContext: {
      ...base.requestContext,
      http: { ...base.requestContext.http, method: opts.method ?? 'GET', path: `${VIEW}${path}` },
    },
  };
}

function handlerFor(stores: FakeStores): (e: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> {
  return makeApiHandler({
    store: new InMemoryHealthStore(),
    authenticator: new WebhookAuthenticator(new StaticTokenSource(['local-test-token'])),
    aggregatedView: stores,
  });
}

const bodyOf = (res: APIGatewayProxyStructuredResultV2): any => JSON.parse(String(res.body));

describe("the user's aggregated view", () => {
  let stores: FakeStores;
  let handler: ReturnType<typeof handlerFor>;
  beforeEach(() => {
    stores = new FakeStores();
    handler = handlerFor(stores);
    stores.place(
      deploymentRef('team-a', 'web'),
      { east: 4, west: 2 },
      { status: { readyReplicas: 3, updatedReplicas: 4, availableReplicas: 3 } },
    );
    stores.place(deploymentRef('team-b', 'api'), { edge: 1 });
  });

  it('answers kubectl get -A with a row per copy: CLUSTER after NAME, READY from the decision and the report, REPORTED age, no AGE', async () => {
    const res = await handler(request('/apis/apps/v1/deployments', { accept: TABLE_ACCEPT, query: { limit: '500' } }));
    expect(res.statusCode).toBe(200);
    const table = bodyOf(res);
    expect(table.kind).toBe('Table');
    // What kubectl prints without -o wide: the priority-0 columns.
    const shown = table.columnDefinitions.flatMap((c: { name: string; priority: number }, i: number) =>
      c.priority === 0 ? [[c.name, i]] : [],
    ) as Array<[string, number]>;
    expect(shown.map(([name]) => name)).toEqual([
      'Name',
      'Cluster',
      'Ready',
      'Up-to-date',
      'Available',
      'Sync',
      'Reported',
    ]);
    const rows = table.rows.map((r: { cells: unknown[] }) => shown.map(([, i]) => r.cells[i]));
    expect(rows).toEqual([
      ['web', 'east', '3/4', 4, 3, 'applied', '42s'],
      ['api', 'edge', '0/1', 0, 0, 'applied', '<none>'],
      ['web', 'west', '3/2', 4, 3, 'applied', '42s'],
    ]);
    expect(table.rows[0].object.metadata).toMatchObject({
      name: 'web',
      namespace: 'team-a',
      labels: { 'tmc.kcp.io/cluster': 'east' },
    });
    // One Query per cluster, one decision batch, one status batch per cluster with copies.
    expect(stores.calls.listForCluster.map((c) => c.cluster)).toEqual(['east', 'edge', 'west']);
    expect(stores.calls.listForCluster.every((c) => c.options.prefix === `${WS}|apps|deployments|`)).toBe(true);
    expect(stores.calls).toMatchObject({ knownClusters: 1, readMany: 1, getMany: 3 });
  });

  it('serves -o yaml objects with the cluster label, the status as reported and when it was reported', async () => {
    const list = bodyOf(await handler(request('/apis/apps/v1/namespaces/team-a/deployments')));
    expect(list).toMatchObject({ kind: 'DeploymentList', apiVersion: 'apps/v1' });
    expect(list.items).toHaveLength(2);
    expect(list.items[0]).toMatchObject({
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'team-a',
        labels: { 'tmc.kcp.io/cluster': 'east' },
        annotations: { 'tmc.kcp.io/sync-state': 'applied', 'tmc.kcp.io/status-reported-at': expect.any(String) },
      },
      spec: { replicas: 4 },
      status: { readyReplicas: 3 },
    });
    expect(stores.calls.listForCluster.every((c) => c.options.prefix === `${WS}|apps|deployments|team-a|`)).toBe(true);
  });

  it.each([
    ['tmc.kcp.io/cluster=east', ['east'], ['east']],
    ['tmc.kcp.io/cluster in (east,edge)', ['east', 'edge'], ['east', 'edge']],
    ['tmc.kcp.io/cluster!=east', ['edge', 'west'], ['edge', 'west']],
    ['tmc.kcp.io/cluster', ['east', 'edge', 'west'], ['east', 'edge', 'west']],
  ])('-l %s reads only the selected clusters', async (selector, queried, shown) => {
    const table = bodyOf(
      await handler(request('/apis/apps/v1/deployments', { accept: TABLE_ACCEPT, query: { labelSelector: selector } })),
    );
    expect(stores.calls.listForCluster.map((c) => c.cluster)).toEqual(queried);
    expect([...new Set(table.rows.map((r: { cells: unknown[] }) => r.cells[1]))]).toEqual(shown);
  });

  it('refuses a selector on labels copies do not carry, instead of answering nothing', async () => {
    const res = await handler(request('/apis/apps/v1/deployments', { query: { labelSelector: 'app=web' } }));
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      message: expect.stringContaining('tmc.kcp.io/cluster'),
    });
    expect(stores.calls.listForCluster).toHaveLength(0);
  });

  it('filters by field selector on name and namespace', async () => {
    const list = bodyOf(
      await handler(request('/apis/apps/v1/deployments', { query: { fieldSelector: 'metadata.name=api' } })),
    );
    expect(
      list.items.map((o: { metadata: { labels: Record<string, string> } }) => o.metadata.labels['tmc.kcp.io/cluster']),
    ).toEqual(['edge']);
  });

  it('shows a cluster whose read failed as a warning naming it, and the other clusters copies', async () => {
    stores.failing.add('west');
    const res = await handler(request('/apis/apps/v1/deployments', { accept: TABLE_ACCEPT }));
    expect(res.statusCode).toBe(200);
    expect(res.headers?.warning).toMatch(
      /^299 - "cluster west: Reading its copies failed: west partition throttled; its copies are not shown"$/,
    );
    expect(bodyOf(res).rows.map((r: { cells: unknown[] }) => r.cells[1])).toEqual(['east', 'edge']);
  });

  it('answers get <name> with the one copy, a List of several, 404 for none, and 503 (not 404) when the reads failed', async () => {
    const one = bodyOf(await handler(request('/apis/apps/v1/namespaces/team-b/deployments/api')));
    expect(one).toMatchObject({
      kind: 'Deployment',
      metadata: { name: 'api', labels: { 'tmc.kcp.io/cluster': 'edge' } },
    });
    const several = bodyOf(await handler(request('/apis/apps/v1/namespaces/team-a/deployments/web')));
    expect(several).toMatchObject({ kind: 'List', apiVersion: 'v1' });
    expect(several.items).toHaveLength(2);
    // Names that `web` is a prefix of do not crowd it out: one record read per cluster.
    for (let i = 0; i < 600; i++) stores.place(deploymentRef('team-a', `web${i}`), { east: 1 });
    stores.calls.listForCluster.length = 0;
    const table = bodyOf(
      await handler(request('/apis/apps/v1/namespaces/team-a/deployments/web', { accept: TABLE_ACCEPT })),
    );
    expect(table.rows.map((r: { cells: unknown[] }) => `${String(r.cells[0])}@${String(r.cells[1])}`)).toEqual([
      'web@east',
      'web@west',
    ]);
    expect(stores.calls.listForCluster.map((c) => c.options.limit)).toEqual([1, 1, 1]);
    const none = await handler(request('/apis/apps/v1/namespaces/team-a/deployments/nope'));
    expect(none.statusCode).toBe(404);
    expect(bodyOf(none)).toMatchObject({ reason: 'NotFound', message: 'deployments.apps "nope" not found' });
    stores.failing.add('edge');
    const failed = await handler(request('/apis/apps/v1/namespaces/team-b/deployments/api'));
    expect(failed.statusCode).toBe(503);
    expect(bodyOf(failed).message).toContain('edge');
  });

  it('hides copies sync-apply recorded as deleted', async () => {
    stores.place(deploymentRef('team-c', 'gone'), { east: 1 }, { state: 'deleted' });
    const list = bodyOf(await handler(request('/apis/apps/v1/deployments')));
    expect(list.items.map((o: { metadata: { name: string } }) => o.metadata.name)).not.toContain('gone');
  });

  it('pages with limit and continue: every copy once, no read beyond the page', async () => {
    for (let i = 0; i < 4; i++) stores.place(deploymentRef('team-c', `app-${i}`), { east: 1, west: 1 });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const list = bodyOf(
        await handler(
          request('/apis/apps/v1/deployments', { query: { limit: '3', ...(token ? { continue: token } : {}) } }),
        ),
      );
      expect(list.items.length).toBeLessThanOrEqual(3);
      seen.push(
        ...list.items.map(
          (o: { metadata: { name: string; labels: Record<string, string> } }) =>
            `${o.metadata.name}@${o.metadata.labels['tmc.kcp.io/cluster']}`,
        ),
      );
      token = list.metadata.continue;
      pages += 1;
    } while (token !== undefined && pages < 10);
    expect(seen.sort()).toEqual(
      ['api@edge', 'web@east', 'web@west', ...[0, 1, 2, 3].flatMap((i) => [`app-${i}@east`, `app-${i}@west`])].sort(),
    );
    expect(stores.calls.listForCluster.every((c) => (c.options.limit ?? Infinity) <= 3)).toBe(true);
  });

  it('refuses a continue token it did not issue', async () => {
    const res = await handler(request('/apis/apps/v1/deployments', { query: { continue: 'bm90LWEtdG9rZW4' } }));
    expect(res.statusCode).toBe(400);
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'refuses %s with a 405 Status saying the view is read-only',
    async (method) => {
      const res = await handler(request('/apis/apps/v1/namespaces/team-a/deployments/web', { method }));
      expect(res.statusCode).toBe(405);
      expect(bodyOf(res)).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'MethodNotAllowed',
        code: 405,
        message: expect.stringContaining('read-only'),
      });
      expect(stores.calls.listForCluster).toHaveLength(0);
    },
  );

  it('refuses watch with a 405 Status', async () => {
    const res = await handler(request('/apis/apps/v1/deployments', { query: { watch: 'true' } }));
    expect(res.statusCode).toBe(405);
    expect(bodyOf(res).message).toContain('watch');
  });

  it('answers 401 without a token or with a wrong one, before reading anything', async () => {
    expect((await handler(request('/apis/apps/v1/deployments', { token: null }))).statusCode).toBe(401);
    expect((await handler(request('/apis/apps/v1/deployments', { token: 'nope' }))).statusCode).toBe(401);
    expect((await handler(request('/apis/apps/v1/deployments', { method: 'DELETE', token: null }))).statusCode).toBe(
      401,
    );
    expect(stores.calls.knownClusters).toBe(0);
  });

  it('serves discovery with get and list only, for the kinds tmc copies', async () => {
    const apis = bodyOf(await handler(request('/apis', { accept: AGGREGATED_ACCEPT })));
    const apps = apis.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'apps');
    const resources = apps.versions[0].resources;
    expect(resources.map((r: { resource: string }) => r.resource)).toEqual([
      'deployments',
      'statefulsets',
      'daemonsets',
    ]);
    expect(resources[0]).toMatchObject({
      verbs: ['get', 'list'],
      subresources: [
        { subresource: 'status', verbs: ['get'] },
        { subresource: 'scale', verbs: ['get'] },
      ],
    });
    const core = bodyOf(await handler(request('/api/v1')));
    expect(core.resources.map((r: { name: string }) => r.name)).not.toContain('pods');
    expect((await handler(request('/api/v1/pods'))).statusCode).toBe(404);
  });
});
