import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoHealthStore } from '../../../lib/adapters/dynamodb/health-store';
import { KubeConnectorImpl } from '../../../lib/adapters/kube/kube-connector';
import type { PlacementMessage } from '../../../lib/api/messages';
import { makeInvocationRecorder } from '../../../lib/health/record-invocation';
import type { DecisionReason } from '../../../lib/placement/types';
import type { DecisionStore } from '../../../lib/ports/decision-store';
import { makeHealthProbeHandler } from '../../../lib/runtime/health-probe';
import { startLocalTable, type LocalTable } from './local-table';

/**
 * health-probe end to end over real HTTP and dynalite: the real KubeConnectorImpl reads SyncTargets and their
 * kubeconfig Secrets from a kcp fake, probes two cluster fakes' /readyz, writes HEALTH items, and merge-patches
 * SyncTarget status back into kcp. The kcp fake counts status writes. (The simulator replaces these fakes once
 * lib/sim's server lands; the assertions stay the same.)
 */
interface Server {
  url: string;
  close(): Promise<void>;
}

async function serve(
  handler: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void,
): Promise<Server> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function kubeconfig(server: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  });
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

describe('health-probe against kcp and two clusters over HTTP', () => {
  let table: LocalTable;
  let kcp: Server;
  const clusters: Record<string, Server> = {};
  const down = new Set<string>();
  const syncTargets = new Map<string, Record<string, unknown>>();
  const secrets = new Map<string, string>();
  let statusWrites = 0;

  beforeAll(async () => {
    table = await startLocalTable();
    for (const name of ['east', 'west']) {
      clusters[name] = await serve((req, _body, res) => {
        if (down.has(name)) return void res.socket?.destroy(); // a cluster that is gone: the connection drops
        if (req.url === '/readyz') return void res.writeHead(200).end('ok');
        json(res, 404, { kind: 'Status', code: 404 });
      });
      secrets.set(name, Buffer.from(kubeconfig(clusters[name].url)).toString('base64'));
      syncTargets.set(name, {
        apiVersion: 'workload.kcp.io/v1alpha1',
        kind: 'SyncTarget',
        metadata: { name, resourceVersion: '1' },
        spec: {
          workloadCluster: {
            name,
            endpoint: clusters[name].url,
            credentials: { secretRef: { namespace: 'tmc-system', name: `${name}-kubeconfig` } },
          },
        },
      });
    }
    kcp = await serve((req, body, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const base = '/clusters/root:default';
      const st =
        /^\/clusters\/root:default\/apis\/workload\.kcp\.io\/v1alpha1\/synctargets(?:\/([^/]+))?(\/status)?$/.exec(
          path,
        );
      if (st && req.method === 'GET' && st[1] === undefined) {
        return json(res, 200, {
          apiVersion: 'workload.kcp.io/v1alpha1',
          kind: 'SyncTargetList',
          items: [...syncTargets.values()],
        });
      }
      if (st && st[1] !== undefined) {
        const found = syncTargets.get(st[1]);
        if (!found) return json(res, 404, { kind: 'Status', code: 404 });
        if (req.method === 'GET') return json(res, 200, found);
        if (req.method === 'PATCH' && st[2] === '/status') {
          statusWrites += 1;
          const patch = JSON.parse(body) as { status: Record<string, unknown> };
          found.status = { ...((found.status as object) ?? {}), ...patch.status };
          return json(res, 200, found);
        }
      }
      const secret = new RegExp(`^${base}/api/v1/namespaces/tmc-system/secrets/([a-z]+)-kubeconfig$`).exec(path);
      if (secret && secrets.has(secret[1])) {
        return json(res, 200, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `${secret[1]}-kubeconfig` },
          data: { kubeconfig: secrets.get(secret[1]) },
        });
      }
      json(res, 404, { kind: 'Status', code: 404, message: `no ${req.method} ${path}` });
    });
  });
  afterAll(async () => {
    await Promise.all([kcp.close(), ...Object.values(clusters).map((c) => c.close())]);
    await table.close();
  });

  /** Decisions of root:default, one per reason: those not fully scheduled are asked again when a cluster returns. */
  async function decide(decisions: DecisionStore): Promise<void> {
    const reasons: Array<[string, DecisionReason, string[]]> = [
      ['placed', 'Scheduled', ['east', 'west']],
      ['partial', 'PartiallyScheduled', ['west']],
      ['waiting', 'Unschedulable', []],
      ['nowhere', 'NoMatchingPlacement', []],
    ];
    for (const [name, reason, clusters] of reasons) {
      await decisions.put({
        ref: {
          workspace: 'root:default',
          group: '',
          version: 'v1',
          resource: 'configmaps',
          kind: 'ConfigMap',
          namespace: 'shop',
          name,
        },
        decisionVersion: 1,
        generation: 0,
        contentHash: 'h',
        clusters: clusters.map((c) => ({ name: c })),
        scheduled: reason === 'Scheduled' || reason === 'PartiallyScheduled',
        reason,
        message: reason,
        explanation: [],
        explanationOmitted: 0,
        weights: {},
        diff: { added: clusters, removed: [], changed: [], unchanged: [] },
        decidedAt: '2026-01-01T00:00:00.000Z',
      });
    }
  }

  it('marks a down cluster Unhealthy with Ready=False after the threshold, back to Healthy when it returns, and writes kcp only on change', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = new DynamoHealthStore(table.doc, table.tableName);
    const sent: PlacementMessage[] = [];
    const stored = new DynamoDecisionStore(table.doc, table.tableName);
    await decide(stored);
    let decisionPages = 0;
    const decisions: Pick<DecisionStore, 'listByWorkspace'> = {
      listByWorkspace: async (workspace, options) => {
        decisionPages += 1;
        return stored.listByWorkspace(workspace, options);
      },
    };
    const connector = new KubeConnectorImpl({
      kcp: { text: kubeconfig(`${kcp.url}/clusters/root`) },
      client: { readyTimeoutMs: 1000 },
    });
    const handler = makeHealthProbeHandler({
      connector,
      store,
      placementQueue: {
        name: 'placement',
        send: async (messages) => void sent.push(...(messages as PlacementMessage[])),
      },
      decisions,
      workspaces: ['root:default'],
      now: () => now,
      recordInvocation: makeInvocationRecorder(store, { now: () => now }),
    });
    const tick = async (): Promise<{ writes: number }> => {
      const before = statusWrites;
      const report = await handler();
      expect(report.failures).toEqual([]);
      now += 60_000;
      return { writes: statusWrites - before };
    };
    const ready = (name: string): string | undefined =>
      (
        (syncTargets.get(name)?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)
          ?.conditions ?? []
      ).find((c) => c.type === 'Ready')?.status;

    try {
      expect(await tick()).toEqual({ writes: 2 }); // first probe: both SyncTargets get conditions and a heartbeat
      expect(await tick()).toEqual({ writes: 0 }); // nothing changed
      expect(ready('east')).toBe('True');

      down.add('east');
      expect(await tick()).toEqual({ writes: 1 }); // Degraded, HeartbeatHealthy=False
      expect(await tick()).toEqual({ writes: 0 }); // same condition text: no write
      expect(await tick()).toEqual({ writes: 1 }); // third failure: Unhealthy, Ready=False
      expect((await store.getCluster('east'))?.state).toBe('Unhealthy');
      expect(ready('east')).toBe('False');
      expect(ready('west')).toBe('True');
      expect(sent.map((m) => [m.reason, m.ref.name])).toEqual([['cluster-change', 'east']]);
      expect(decisionPages).toBe(0); // entering Unhealthy asks nothing of the decisions
      expect(await tick()).toEqual({ writes: 1 }); // west's heartbeat is due (5 min); east unchanged

      down.delete('east');
      expect(await tick()).toEqual({ writes: 1 }); // east back: Ready=True
      expect(ready('east')).toBe('True');
      expect((await store.getCluster('east'))?.state).toBe('Healthy');
      // East is back: its SyncTarget, and every object decided while it could not be chosen, are placed again.
      expect(sent.slice(1).map((m) => [m.reason, m.ref.kind, m.ref.name])).toEqual([
        ['cluster-change', 'SyncTarget', 'east'],
        ['cluster-change', 'ConfigMap', 'partial'],
        ['cluster-change', 'ConfigMap', 'waiting'],
      ]);
      expect(decisionPages).toBe(1);
      expect(await tick()).toEqual({ writes: 0 });
      expect(decisionPages).toBe(1); // a steady cluster reads no decisions
      expect((await store.getComponent('health-probe'))?.invocations).toBe(8);
    } finally {
      await connector.close();
    }
  });
});
