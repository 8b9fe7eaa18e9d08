import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EksTokenSource } from '../../../lib/adapters/kube/eks-token';
import { KubeConnectorImpl } from '../../../lib/adapters/kube/kube-connector';

/**
 * The kube adapter over real HTTP against a small fake API server (paths, SSA content type, Status bodies, faults).
 * The simulator (lib/sim) replaces this fake once its server lands; the assertions stay the same.
 */
interface Fake {
  url: string;
  objects: Map<string, Record<string, unknown>>;
  requests: Array<{ method: string; path: string; contentType?: string; auth?: string }>;
  fault?: { status: number; retryAfter?: string };
  close(): Promise<void>;
}

async function startFake(): Promise<Fake> {
  const objects = new Map<string, Record<string, unknown>>();
  const requests: Fake['requests'] = [];
  let rv = 100;
  const fake: Partial<Fake> = { objects, requests };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({
        method: req.method ?? '',
        path: url.pathname + url.search,
        contentType: req.headers['content-type'],
        auth: req.headers.authorization,
      });
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      if (fake.fault)
        return send(
          fake.fault.status,
          { kind: 'Status', code: fake.fault.status },
          fake.fault.retryAfter ? { 'retry-after': fake.fault.retryAfter } : {},
        );
      const key = url.pathname;
      const existing = objects.get(key);
      if (req.method === 'GET')
        return existing
          ? send(200, existing)
          : send(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });
      if (req.method === 'DELETE') {
        if (!existing) return send(404, { kind: 'Status', code: 404, reason: 'NotFound' });
        objects.delete(key);
        return send(200, existing);
      }
      if (req.method === 'PATCH' && req.headers['content-type'] === 'application/apply-patch+yaml') {
        const applied = JSON.parse(body) as Record<string, unknown>;
        const same =
          existing &&
          JSON.stringify({ ...existing, metadata: undefined }) === JSON.stringify({ ...applied, metadata: undefined });
        const stored = same
          ? existing
          : { ...applied, metadata: { ...(applied.metadata as object), resourceVersion: String(++rv) } };
        objects.set(key, stored);
        return send(existing ? 200 : 201, stored);
      }
      return send(405, { kind: 'Status', code: 405 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake as Fake;
}

function kubeconfig(server: string, token: string): string {
  return `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}"}}]
users: [{name: u, user: {token: ${token}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;
}

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' };

/** A SyncTarget in root:default whose credentials are a kubeconfig Secret `<name>-kubeconfig` in tmc-system. */
function putSecretRefTarget(objects: Fake['objects'], name: string, server: string, token: string): void {
  objects.set(`/clusters/root:default/apis/workload.kcp.io/v1alpha1/synctargets/${name}`, {
    apiVersion: 'workload.kcp.io/v1alpha1',
    kind: 'SyncTarget',
    metadata: { name },
    spec: {
      workloadCluster: { name, credentials: { secretRef: { namespace: 'tmc-system', name: `${name}-kubeconfig` } } },
    },
  });
  objects.set(`/clusters/root:default/api/v1/namespaces/tmc-system/secrets/${name}-kubeconfig`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${name}-kubeconfig`, namespace: 'tmc-system' },
    data: { kubeconfig: Buffer.from(kubeconfig(server, token)).toString('base64') },
  });
}

describe('kube adapter over HTTP', () => {
  let kcp: Fake;
  let east: Fake;
  let connector: KubeConnectorImpl;

  beforeAll(async () => {
    kcp = await startFake();
    east = await startFake();
    connector = new KubeConnectorImpl({ kcp: { text: kubeconfig(`${kcp.url}/clusters/root`, 'kcp-token') } });
  });
  afterAll(async () => {
    await connector.close();
    await Promise.all([kcp.close(), east.close()]);
  });
  beforeEach(() => {
    kcp.fault = undefined;
    east.fault = undefined;
  });

  it('applies with tmc as field manager under the workspace path; a second apply changes nothing', async () => {
    const client = await connector.kcp('root:default');
    const object = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 2 },
    };
    const first = await client.apply(DEPLOYMENTS, object);
    const second = await client.apply(DEPLOYMENTS, object);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const applies = kcp.requests.filter((r) => r.method === 'PATCH');
    expect(applies.map((r) => r.path)).toEqual([
      '/clusters/root:default/apis/apps/v1/namespaces/default/deployments/web?fieldManager=tmc&force=false',
      '/clusters/root:default/apis/apps/v1/namespaces/default/deployments/web?fieldManager=tmc&force=false',
    ]);
    expect(
      applies.every((r) => r.contentType === 'application/apply-patch+yaml' && r.auth === 'Bearer kcp-token'),
    ).toBe(true);
  });

  it('404: get is undefined, delete is absent', async () => {
    const client = await connector.kcp('root:default');
    const name = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default', name: 'missing' };
    expect(await client.get(name)).toBeUndefined();
    expect(await client.delete(name)).toBe('absent');
  });

  it('429 becomes ClusterThrottledError with Retry-After, naming cluster and object', async () => {
    const client = await connector.kcp('root:default');
    kcp.fault = { status: 429, retryAfter: '3' };
    await expect(client.get({ ...DEPLOYMENTS, namespace: 'default', name: 'web' })).rejects.toMatchObject({
      name: 'ClusterThrottledError',
      retryAfterSeconds: 3,
      cluster: 'kcp:root:default',
      object: 'apps/v1/deployments default/web',
    });
  });

  it('503 becomes ClusterUnavailableError', async () => {
    const client = await connector.kcp('root:default');
    kcp.fault = { status: 503 };
    await expect(client.list(DEPLOYMENTS)).rejects.toMatchObject({ name: 'ClusterUnavailableError' });
  });

  it('builds a cluster client from a SyncTarget and its Secret in the workspace', async () => {
    putSecretRefTarget(kcp.objects, 'east', east.url, 'east-token');
    const client = await connector.cluster('root:default', 'east');
    expect(client.target).toBe('east');
    expect(await connector.cluster('root:default', 'east')).toBe(client); // cached per container
    await client.apply(
      { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap' },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'n' } },
    );
    expect(east.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      auth: 'Bearer east-token',
      path: '/api/v1/namespaces/n/configmaps/a?fieldManager=tmc&force=false',
    });
  });

  it('refuses an exec-plugin kubeconfig before any request to the cluster, saying what to use instead', async () => {
    kcp.objects.set('/clusters/root:default/apis/workload.kcp.io/v1alpha1/synctargets/plugin', {
      apiVersion: 'workload.kcp.io/v1alpha1',
      kind: 'SyncTarget',
      metadata: { name: 'plugin' },
      spec: {
        workloadCluster: {
          name: 'plugin',
          credentials: { secretRef: { namespace: 'tmc-system', name: 'plugin-kubeconfig' } },
        },
      },
    });
    const execKubeconfig = kubeconfig(east.url, 'unused').replace(
      'users: [{name: u, user: {token: unused}}]',
      'users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [eks, get-token, --cluster-name, plugin]}}}]',
    );
    expect(execKubeconfig).toContain('get-token');
    kcp.objects.set('/clusters/root:default/api/v1/namespaces/tmc-system/secrets/plugin-kubeconfig', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'plugin-kubeconfig', namespace: 'tmc-system' },
      data: { kubeconfig: Buffer.from(execKubeconfig).toString('base64') },
    });
    const before = east.requests.length;
    const failed = await connector.cluster('root:default', 'plugin').catch((e: unknown) => e);
    expect(failed).toMatchObject({ name: 'ClusterConfigurationError', cluster: expect.stringContaining('plugin') });
    expect(String((failed as Error).message)).toMatch(/exec plugin.*"aws".*eks credential form.*token.*pull mode/);
    expect(east.requests.length).toBe(before);
  });

  describe('an eks SyncTarget', () => {
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
    let signed: string[];
    let eksConnector: KubeConnectorImpl;
    const eksTarget = (name: string, eks: Record<string, string>): void => {
      kcp.objects.set(`/clusters/root:default/apis/workload.kcp.io/v1alpha1/synctargets/${name}`, {
        apiVersion: 'workload.kcp.io/v1alpha1',
        kind: 'SyncTarget',
        metadata: { name },
        spec: { workloadCluster: { name, endpoint: east.url, credentials: { eks } } },
      });
    };
    beforeEach(() => {
      signed = [];
      eksConnector = new KubeConnectorImpl({
        kcp: { text: kubeconfig(`${kcp.url}/clusters/root`, 'kcp-token') },
        eksTokens: (eks) => (signed.push(eks.clusterName), new EksTokenSource({ ...eks, credentials })),
      });
    });
    afterEach(() => eksConnector.close());

    it('sends a presigned STS token for the cluster as its bearer token', async () => {
      eksTarget('prod-eks', { clusterName: 'prod', region: 'eu-west-1' });
      const client = await eksConnector.cluster('root:default', 'prod-eks');
      await client.apply(
        { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap' },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'eks', namespace: 'n' } },
      );
      const auth = east.requests.at(-1)?.auth ?? '';
      expect(auth).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
      const url = new URL(Buffer.from(auth.slice('Bearer k8s-aws-v1.'.length), 'base64url').toString('utf8'));
      expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
      expect(signed).toEqual(['prod']);
    });

    it('refuses roleArn, which tmc does not assume, before any request', async () => {
      const before = east.requests.length;
      eksTarget('role-eks', { clusterName: 'prod', region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/x' });
      await expect(eksConnector.cluster('root:default', 'role-eks')).rejects.toMatchObject({
        name: 'ClusterConfigurationError',
        message: expect.stringContaining('access entries'),
      });
      expect(east.requests.length).toBe(before);
    });
  });

  describe("a workspace uses only its own clusters' credentials", () => {
    const arn = (name: string): string => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;
    const syncTarget = (workspace: string, name: string, secretsManagerArn: string): void => {
      kcp.objects.set(`/clusters/${workspace}/apis/workload.kcp.io/v1alpha1/synctargets/${name}`, {
        apiVersion: 'workload.kcp.io/v1alpha1',
        kind: 'SyncTarget',
        metadata: { name },
        spec: { workloadCluster: { name, credentials: { secretsManagerArn } } },
      });
    };
    let reads: string[];
    let scoped: KubeConnectorImpl;
    beforeEach(() => {
      reads = [];
      scoped = new KubeConnectorImpl({
        kcp: { text: kubeconfig(`${kcp.url}/clusters/root`, 'kcp-token') },
        secrets: { read: async (id: string) => (reads.push(id), kubeconfig(east.url, 'east-token')) },
      });
    });
    afterEach(() => scoped.close());

    it("refuses a SyncTarget in root:b naming root:a's secret before reading it", async () => {
      syncTarget('root:b', 'stolen', arn('tmc/prod/clusters/root.a/east'));
      await expect(scoped.cluster('root:b', 'stolen')).rejects.toMatchObject({
        name: 'ClusterConfigurationError',
        cluster: 'stolen',
        message: expect.stringContaining('belongs to workspace root:a'),
      });
      expect(reads).toEqual([]);
    });

    it.each([
      ['no workspace part', 'tmc/prod/clusters/east'],
      ['another prefix', 'other/root.b/east'],
    ])('refuses a secret with %s', async (_why, name) => {
      syncTarget('root:b', 'odd', arn(name));
      await expect(scoped.cluster('root:b', 'odd')).rejects.toMatchObject({ name: 'ClusterConfigurationError' });
      expect(reads).toEqual([]);
    });

    it("reads a SyncTarget's own workspace's secret and builds the client", async () => {
      syncTarget('root:a', 'east', arn('tmc/prod/clusters/root.a/east'));
      const client = await scoped.cluster('root:a', 'east');
      expect(reads).toEqual([arn('tmc/prod/clusters/root.a/east')]);
      expect(client.target).toBe('east');
    });
  });

  it('refuses to reach kcp for a workspace that is not a logical cluster path, without a request', async () => {
    const before = kcp.requests.length;
    await expect(connector.kcp('../../health')).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(connector.cluster('root:default/../../api', 'east')).rejects.toMatchObject({
      name: 'ValidationError',
    });
    expect(kcp.requests.length).toBe(before);
  });

  it('a 404 on the credentials Secret is retryable, not a permanent configuration error, and is not cached', async () => {
    kcp.objects.set('/clusters/root:default/apis/workload.kcp.io/v1alpha1/synctargets/south', {
      apiVersion: 'workload.kcp.io/v1alpha1',
      kind: 'SyncTarget',
      metadata: { name: 'south' },
      spec: {
        workloadCluster: {
          name: 'south',
          credentials: { secretRef: { namespace: 'tmc-system', name: 'south-kubeconfig' } },
        },
      },
    });
    const failed = await connector.cluster('root:default', 'south').catch((e: unknown) => e);
    expect(failed).toMatchObject({
      name: 'ClusterCredentialsUnavailableError',
      category: 'cluster-credentials-unavailable',
      retryable: true,
      cluster: 'south',
    });
    // kcp answers the Secret again: the next message builds the client (the failure was not cached).
    kcp.objects.set('/clusters/root:default/api/v1/namespaces/tmc-system/secrets/south-kubeconfig', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'south-kubeconfig', namespace: 'tmc-system' },
      data: { kubeconfig: Buffer.from(kubeconfig(east.url, 'south-token')).toString('base64') },
    });
    expect((await connector.cluster('root:default', 'south')).target).toBe('south');
  });

  describe('rotated credentials are picked up without a cold start', () => {
    const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap' };
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rotated', namespace: 'n' } };
    const putCredentials = (token: string): void => putSecretRefTarget(kcp.objects, 'rotating', east.url, token);
    const allSecretReads = (): number =>
      kcp.requests.filter((r) => r.path.endsWith('/secrets/rotating-kubeconfig')).length;
    let readsBefore: number;
    const secretReads = (): number => allSecretReads() - readsBefore;
    let now: number;
    let rotating: KubeConnectorImpl;
    beforeEach(() => {
      readsBefore = allSecretReads();
      now = 1_000_000;
      rotating = new KubeConnectorImpl({
        kcp: { text: kubeconfig(`${kcp.url}/clusters/root`, 'kcp-token') },
        credentialTtlMs: 60_000,
        now: () => now,
      });
    });
    afterEach(() => rotating.close());

    it('reads the credentials again after the TTL, not before', async () => {
      putCredentials('old-token');
      await (await rotating.cluster('root:default', 'rotating')).apply(CONFIGMAPS, configMap);
      putCredentials('new-token');
      now += 59_000;
      await (await rotating.cluster('root:default', 'rotating')).apply(CONFIGMAPS, configMap);
      expect(east.requests.at(-1)?.auth).toBe('Bearer old-token');
      expect(secretReads()).toBe(1);
      now += 1_000;
      await (await rotating.cluster('root:default', 'rotating')).apply(CONFIGMAPS, configMap);
      expect(east.requests.at(-1)?.auth).toBe('Bearer new-token');
      expect(secretReads()).toBe(2);
    });

    it('reads them again after a 401, before the TTL', async () => {
      putCredentials('old-token');
      const client = await rotating.cluster('root:default', 'rotating');
      putCredentials('new-token');
      east.fault = { status: 401 };
      await expect(client.apply(CONFIGMAPS, configMap)).rejects.toMatchObject({ name: 'ClusterAuthenticationError' });
      east.fault = undefined;
      await (await rotating.cluster('root:default', 'rotating')).apply(CONFIGMAPS, configMap);
      expect(east.requests.at(-1)?.auth).toBe('Bearer new-token');
      expect(secretReads()).toBe(2);
    });

    it('keeps the working client when the refresh cannot read the credentials', async () => {
      putCredentials('old-token');
      const first = await rotating.cluster('root:default', 'rotating');
      now += 60_000;
      kcp.fault = { status: 503 };
      const during = await rotating.cluster('root:default', 'rotating');
      kcp.fault = undefined;
      expect(during).toBe(first);
      await during.apply(CONFIGMAPS, configMap);
      expect(east.requests.at(-1)?.auth).toBe('Bearer old-token');
    });
  });

  it('a missing SyncTarget is a ClusterConfigurationError, and is not cached', async () => {
    await expect(connector.cluster('root:default', 'nowhere')).rejects.toMatchObject({
      name: 'ClusterConfigurationError',
      cluster: 'nowhere',
    });
  });

  it('a cluster that is down is ClusterUnreachableError, and ready() says not ok', async () => {
    const down = await startFake();
    const url = down.url;
    await down.close();
    const c = new KubeConnectorImpl({ kcp: { text: kubeconfig(url, 't') } });
    const client = await c.kcp('root');
    await expect(client.get({ ...DEPLOYMENTS, namespace: 'd', name: 'x' })).rejects.toMatchObject({
      name: 'ClusterUnreachableError',
      cluster: 'kcp:root',
    });
    expect(await client.ready()).toMatchObject({ ok: false });
    await c.close();
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const sockets = new Set<unknown>();
    const probe = http.createServer((req, res) => {
      sockets.add(req.socket);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const c = new KubeConnectorImpl({
      kcp: { text: kubeconfig(`http://127.0.0.1:${(probe.address() as AddressInfo).port}`, 't') },
    });
    const client = await c.kcp('root');
    for (let i = 0; i < 5; i++)
      await client.get({ group: '', version: 'v1', resource: 'configmaps', namespace: 'd', name: `x${i}` });
    expect(sockets.size).toBe(1);
    await c.close();
    probe.closeAllConnections();
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
});
