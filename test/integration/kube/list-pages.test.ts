import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClusterClient } from '../../../lib/adapters/kube/kube-cluster-client';
import { loadKubeconfig } from '../../../lib/adapters/kube/kubeconfig';
import { type SimServer, startSimServer } from '../../../lib/sim';
import { kubeconfigFor } from '../../../lib/sim/kubeconfig';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };

/**
 * A LIST answered in pages is read to its last page (issue 14: a truncated page taken for the whole list makes
 * everything past it look deleted). Against the simulator, which pages when asked for a `limit`.
 */
describe('kube adapter: paged lists', () => {
  let sim: SimServer;
  let proxy: http.Server;
  let proxyUrl: string;
  const clients: KubeClusterClient[] = [];
  const clientFor = (name: string, server: string, listPageSize?: number): KubeClusterClient => {
    const { config } = loadKubeconfig(kubeconfigFor(name, server, 'test-token'), { uniqueName: name });
    const client = new KubeClusterClient(name, config, {
      discoveryTtlMs: 0,
      ...(listPageSize ? { listPageSize } : {}),
    });
    clients.push(client);
    return client;
  };
  const listsSent = (): number => sim.requests.count({ verb: 'list', resource: 'configmaps' });

  beforeAll(async () => {
    sim = await startSimServer({ name: 'pages', mode: 'cluster' });
    const direct = clientFor('direct', sim.serverUrl());
    for (let i = 0; i < 7; i++)
      await direct.apply(
        { ...CONFIGMAPS, kind: 'ConfigMap' },
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cm-${i}`, namespace: 'default' },
          data: { i: String(i) },
        },
      );
    // A server that pages without being asked (as a proxy or an aggregated API may): every LIST gets limit=3.
    proxy = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', sim.serverUrl());
      if (req.method === 'GET' && !url.searchParams.has('limit')) url.searchParams.set('limit', '3');
      void fetch(url, { headers: { authorization: req.headers.authorization ?? '' } }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    await sim.stop();
  });

  it('follows continue tokens to the last page when it asks for pages', async () => {
    const before = listsSent();
    const names = (await clientFor('paged', sim.serverUrl(), 2).list(CONFIGMAPS, { namespace: 'default' })).map(
      (o) => o.metadata.name,
    );
    expect(names.sort()).toEqual(Array.from({ length: 7 }, (_, i) => `cm-${i}`));
    expect(listsSent() - before).toBe(4); // 2 + 2 + 2 + 1
  });

  it('reads every page of a server that pages unasked', async () => {
    const before = listsSent();
    const objects = await clientFor('proxied', proxyUrl).list(CONFIGMAPS, { namespace: 'default' });
    expect(objects.map((o) => o.metadata.name).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `cm-${i}`));
    expect(objects.every((o) => o.kind === 'ConfigMap' && o.apiVersion === 'v1')).toBe(true);
    expect(listsSent() - before).toBe(3); // 3 + 3 + 1
  });

  it('asks for everything at once by default: one request', async () => {
    const before = listsSent();
    expect(await clientFor('whole', sim.serverUrl()).list(CONFIGMAPS, { namespace: 'default' })).toHaveLength(7);
    expect(listsSent() - before).toBe(1);
  });
});
