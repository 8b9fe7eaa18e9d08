import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClusterClient } from '../../../lib/adapters/kube/kube-cluster-client';
import { KubeHttpTransport } from '../../../lib/adapters/kube/http-transport';
import { loadKubeconfig } from '../../../lib/adapters/kube/kubeconfig';
import { startHangingServer, startUnconnectableServer, type HangingServer } from '../../support/hanging-server';

/**
 * What the transport sends from the KubeConfig: a user whose credentials are fixed at load is read once per transport
 * (client-node's applyToHTTPSOptions builds an Agent and decodes the TLS material on every call), a user whose tokens
 * refresh (auth provider, exec plugin) on every request, and a failed read is not kept.
 */
describe('KubeHttpTransport: credentials read per request only when they can change', () => {
  let server: http.Server;
  let url: string;
  const seen: Array<string | undefined> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, accept: req.headers.accept }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/clusters/root/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => (seen.length = 0));

  const kubeconfig = (user: string): string => `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${url}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: ${user} }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;

  it('reads a token user once and sends the same headers on every request', async () => {
    const { config } = loadKubeconfig(kubeconfig('{ token: fixed-token }'), { uniqueName: 'fixed' });
    const reads = jest.spyOn(config, 'applyToHTTPSOptions');
    const transport = new KubeHttpTransport(config, 4);
    try {
      const answers = await Promise.all(
        [1, 2, 3].map(() => transport.request({ method: 'GET', path: '/api/v1', timeoutMs: 5_000 })),
      );
      await transport.request({ method: 'GET', path: '/api/v1/namespaces', timeoutMs: 5_000 });
      expect(seen).toEqual(Array(4).fill('Bearer fixed-token'));
      expect(answers[0]!.json).toEqual({ path: '/clusters/root/api/v1', accept: 'application/json' });
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      transport.close();
    }
  });

  it('asks an auth-provider user for its headers on every request, so a refreshed token is sent', async () => {
    const { config } = loadKubeconfig(kubeconfig('{ auth-provider: { name: custom-refresher, config: {} } }'), {
      uniqueName: 'refreshing',
    });
    let token = 0;
    const reads = jest.spyOn(config, 'applyToHTTPSOptions').mockImplementation((opts) => {
      opts.headers = { ...opts.headers, Authorization: `Bearer t${++token}` };
      return Promise.resolve();
    });
    const transport = new KubeHttpTransport(config, 4);
    try {
      for (let i = 0; i < 3; i++) await transport.request({ method: 'GET', path: '/api/v1', timeoutMs: 5_000 });
      expect(seen).toEqual(['Bearer t1', 'Bearer t2', 'Bearer t3']);
      expect(reads).toHaveBeenCalledTimes(3);
    } finally {
      transport.close();
    }
  });

  it('does not keep a failed read of fixed credentials: the next request reads them again', async () => {
    const { config } = loadKubeconfig(kubeconfig('{ token: second-try }'), { uniqueName: 'flaky' });
    const reads = jest.spyOn(config, 'applyToHTTPSOptions').mockRejectedValueOnce(new Error('certificate unreadable'));
    const transport = new KubeHttpTransport(config, 4);
    try {
      await expect(transport.request({ method: 'GET', path: '/api/v1', timeoutMs: 5_000 })).rejects.toThrow(
        'certificate unreadable',
      );
      await transport.request({ method: 'GET', path: '/api/v1', timeoutMs: 5_000 });
      await transport.request({ method: 'GET', path: '/api/v1', timeoutMs: 5_000 });
      expect(seen).toEqual(['Bearer second-try', 'Bearer second-try']);
      expect(reads).toHaveBeenCalledTimes(2);
    } finally {
      transport.close();
    }
  });
});

/**
 * A cluster (or kcp) that hangs ends each request at the client's request timeout, not at the invocation's deadline:
 * whether it accepts the connection and never answers, or never completes the TCP connect at all.
 */
describe('KubeClusterClient: a hung endpoint fails the request at its timeout', () => {
  let server: HangingServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  const endpoints: Array<[string, () => Promise<HangingServer>]> = [
    ['accepts and never answers', startHangingServer],
    ['never completes the TCP connect', startUnconnectableServer],
  ];

  it.each(endpoints)('an endpoint that %s: ClusterUnreachableError (ETIMEDOUT)', async (_what, start) => {
    server = await start();
    const { config } = loadKubeconfig(
      `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server.url}" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
      { uniqueName: 'hung' },
    );
    const client = new KubeClusterClient('east', config, { requestTimeoutMs: 200 });
    try {
      const get = client.get({
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        namespace: 'default',
        name: 'web',
      });
      // Far above the 200 ms timeout; only a request that is never ended reaches it.
      const result = await Promise.race([
        get.then(
          () => 'answered',
          (err: unknown) => err,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still pending'), 20_000).unref()),
      ]);
      expect(result).toMatchObject({
        name: 'ClusterUnreachableError',
        category: 'cluster-unreachable',
        retryable: true,
        cluster: 'east',
        object: 'apps/v1/deployments default/web',
        cause: { code: 'ETIMEDOUT' },
      });
    } finally {
      client.close();
    }
  });
});
