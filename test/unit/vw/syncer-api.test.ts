import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { StatusMessage } from '../../../lib/api/messages';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import { issueStatusCredential, StatusCredentialAuthenticator } from '../../../lib/auth/status-credentials';
import { InMemoryHealthStore } from '../../../lib/ports/health-store';
import type { KubeClient, KubeConnector, KubeObject, ResourceName } from '../../../lib/ports/kube-client';
import {
  syncRecordKey,
  type DecisionView,
  type SyncRecord,
  type SyncStateStore,
} from '../../../lib/ports/sync-state-store';
import type { WorkQueue } from '../../../lib/ports/work-queue';
import { makeSyncerApiHandler } from '../../../lib/vw/syncer-api';
import { syncerSubject } from '../../../lib/vw/syncer-view';
import * as build from '../../support/builders';
import { loadEvent } from '../../support/events';
import { MemoryStatusCredentialStore } from '../ingress/fakes';

const ref = (workspace: string, name: string): ObjectRef => ({
  workspace,
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'default',
  name,
});
const record = (r: ObjectRef, cluster: string): SyncRecord => ({
  ref: r,
  cluster,
  state: 'applied',
  decisionVersion: 1,
  appliedGeneration: 1,
  appliedHash: 'h',
  updatedAt: '2026-01-01T00:00:00Z',
});

/** Sync items and decisions in memory, with the store's ordering and scoping rules. */
class MemorySyncState implements SyncStateStore {
  readonly records = new Map<string, SyncRecord>();
  readonly decisions = new Map<string, DecisionView>();
  puts = 0;
  async get(r: ObjectRef, cluster: string): Promise<SyncRecord | undefined> {
    return this.records.get(syncRecordKey(r, cluster));
  }
  async listForObject(r: ObjectRef): Promise<SyncRecord[]> {
    return [...this.records.values()].filter((x) => objectKey(x.ref) === objectKey(r));
  }
  async listForCluster(cluster: string, options: { limit?: number; after?: string } = {}): Promise<SyncRecord[]> {
    const all = [...this.records.values()].filter(
      (x) => x.cluster === cluster && (options.after === undefined || objectKey(x.ref) > options.after),
    );
    return all.sort((a, b) => objectKey(a.ref).localeCompare(objectKey(b.ref))).slice(0, options.limit);
  }
  async put(r: SyncRecord): Promise<void> {
    this.puts += 1;
    this.records.set(syncRecordKey(r.ref, r.cluster), r);
  }
  async knownClusters(): Promise<string[]> {
    return [];
  }
  async decision(r: ObjectRef): Promise<DecisionView | undefined> {
    return this.decisions.get(objectKey(r));
  }
  async readMany(keys: {
    decisions: readonly ObjectRef[];
    records: ReadonlyArray<{ ref: ObjectRef; cluster: string }>;
  }): ReturnType<SyncStateStore['readMany']> {
    return {
      decisions: new Map(keys.decisions.map((r) => [objectKey(r), this.decisions.get(objectKey(r))])),
      records: new Map(
        keys.records.map((k) => [syncRecordKey(k.ref, k.cluster), this.records.get(syncRecordKey(k.ref, k.cluster))]),
      ),
    };
  }
}

function kcpWith(objects: Record<string, KubeObject[]>): KubeConnector & { gets: string[] } {
  const gets: string[] = [];
  return {
    gets,
    kcp: async (workspace) =>
      ({
        target: `kcp:${workspace}`,
        get: async (name: ResourceName) => {
          gets.push(`${workspace}/${name.name}`);
          return (objects[workspace] ?? []).find((o) => o.metadata.name === name.name);
        },
      }) as unknown as KubeClient,
    cluster: async () => Promise.reject(new Error('the virtual workspace never calls a cluster')),
    forget: () => undefined,
  };
}

describe('the syncer view of the virtual workspace', () => {
  const wsA = 'root:team-a';
  const wsB = 'root:team-b';
  let syncState: MemorySyncState;
  let kube: ReturnType<typeof kcpWith>;
  let sent: StatusMessage[];
  let labToken: string;
  let eastToken: string;
  let handler: ReturnType<typeof makeSyncerApiHandler>;

  beforeEach(async () => {
    syncState = new MemorySyncState();
    const web = ref(wsA, 'web');
    const other = ref(wsA, 'other');
    const foreign = ref(wsB, 'web');
    await syncState.put(record(web, 'lab'));
    await syncState.put(record(other, 'east'));
    await syncState.put(record(foreign, 'lab'));
    syncState.decisions.set(objectKey(web), { decisionVersion: 1, clusters: [{ name: 'lab' }] });
    syncState.decisions.set(objectKey(other), { decisionVersion: 1, clusters: [{ name: 'east' }] });
    const deployment = (name: string): KubeObject => build.deployment(name, { metadata: { uid: `uid-${name}` } });
    kube = kcpWith({
      [wsA]: [
        deployment('web'),
        deployment('other'),
        {
          apiVersion: 'workload.kcp.io/v1alpha1',
          kind: 'SyncTarget',
          metadata: { name: 'lab', uid: 'lab-uid' },
          spec: { workloadCluster: { name: 'lab', endpoint: 'https://lab' } },
        },
      ],
      [wsB]: [deployment('web')],
    });
    sent = [];
    const statusQueue: WorkQueue<StatusMessage> = { name: 'status', send: async (m) => void sent.push(...m) };
    const credentials = new MemoryStatusCredentialStore();
    labToken = await issueStatusCredential(credentials, syncerSubject(wsA, 'lab'));
    eastToken = await issueStatusCredential(credentials, syncerSubject(wsA, 'east'));
    handler = makeSyncerApiHandler({
      syncState,
      kube,
      health: new InMemoryHealthStore(),
      statusQueue,
      authenticator: new StatusCredentialAuthenticator(credentials),
    });
  });

  const call = async (
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    token = labToken,
  ): Promise<{ statusCode: number; body: unknown }> => {
    const event = {
      rawPath: path,
      headers: { authorization: `Bearer ${token}` },
      requestContext: { http: { method } },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    } as unknown as APIGatewayProxyEventV2;
    const result = await handler(event);
    return { statusCode: result.statusCode ?? 0, body: JSON.parse(result.body ?? 'null') };
  };

  it('tells the syncer its SyncTarget: uid and pull mode', async () => {
    expect(await call('GET', `/syncers/${wsA}/lab`)).toEqual({
      statusCode: 200,
      body: { name: 'lab', uid: 'lab-uid', syncMode: 'Pull' },
    });
  });

  it('lists only the work placed on its SyncTarget in its workspace', async () => {
    const page = await call('GET', `/syncers/${wsA}/lab/work`);
    expect(page.statusCode).toBe(200);
    expect(
      (page.body as { items: SyncRecord[] }).items.map((r) => `${r.ref.workspace}/${r.ref.name}@${r.cluster}`),
    ).toEqual([`${wsA}/web@lab`]);
  });

  it("answers the sample of the list route (events/virtual-workspace) with the SyncTarget's work, and 401 to its placeholder token", async () => {
    const sample = loadEvent<APIGatewayProxyEventV2>('virtual-workspace', 'work-list.json');
    expect((await handler(sample)).statusCode).toBe(401);
    const result = await handler({ ...sample, headers: { ...sample.headers, authorization: `Bearer ${labToken}` } });
    expect(result.statusCode).toBe(200);
    const page = JSON.parse(result.body ?? 'null') as { items: SyncRecord[] };
    expect(page.items.map((r) => `${r.ref.workspace}/${r.ref.name}@${r.cluster}`)).toEqual([`${wsA}/web@lab`]);
  });

  it.each([
    ['a token of another SyncTarget', 'GET', `/syncers/${wsA}/lab/work`, undefined, 'east'],
    ['its own token on another workspace', 'GET', `/syncers/${wsB}/lab/work`, undefined, 'lab'],
    ['no valid token', 'POST', `/syncers/${wsA}/lab/heartbeat`, {}, 'nonsense'],
  ])('refuses %s (401)', async (_label, method, path, body, who) => {
    const token = who === 'lab' ? labToken : who === 'east' ? eastToken : who;
    expect((await call(method as 'GET' | 'POST', path, body, token)).statusCode).toBe(401);
  });

  it.each([
    ['an object placed on another cluster', 'object', ref(wsA, 'other')],
    ['an object of another workspace', 'object', ref(wsB, 'web')],
    ['reading records of another workspace', 'read', { decisions: [], records: [ref(wsB, 'web')] }],
    ['a record written for another cluster', 'records', record(ref(wsA, 'web'), 'east')],
    ['a record in another workspace', 'records', record(ref(wsB, 'web'), 'lab')],
    ['status of an object it has no copy of', 'status', { ref: ref(wsA, 'other'), status: { readyReplicas: 1 } }],
  ])('refuses %s (403) without reading kcp or writing', async (_label, operation, body) => {
    const putsBefore = syncState.puts;
    const response = await call('POST', `/syncers/${wsA}/lab/${operation}`, body);
    expect(response.statusCode).toBe(403);
    expect(kube.gets).toEqual([]);
    expect(syncState.puts).toBe(putsBefore);
    expect(sent).toEqual([]);
  });

  it('serves its own work: the kcp object, its state, a write-back and status onto the status queue', async () => {
    const web = ref(wsA, 'web');
    expect(await call('POST', `/syncers/${wsA}/lab/object`, web)).toMatchObject({
      statusCode: 200,
      body: { metadata: { uid: 'uid-web' } },
    });
    const reads = await call('POST', `/syncers/${wsA}/lab/read`, { decisions: [web], records: [web] });
    expect(reads.body).toMatchObject({
      decisions: [[objectKey(web), { clusters: [{ name: 'lab' }] }]],
      records: [[`${objectKey(web)}#lab`, { state: 'applied' }]],
    });
    expect(
      (await call('POST', `/syncers/${wsA}/lab/records`, { ...record(web, 'lab'), appliedHash: 'h2' })).statusCode,
    ).toBe(200);
    expect((await syncState.get(web, 'lab'))?.appliedHash).toBe('h2');
    expect(
      (
        await call('POST', `/syncers/${wsA}/lab/status`, {
          ref: web,
          resourceVersion: '7',
          status: { readyReplicas: 2 },
        })
      ).statusCode,
    ).toBe(202);
    expect(sent).toEqual([
      expect.objectContaining({
        type: 'status',
        cluster: 'lab',
        ref: web,
        resourceVersion: '7',
        // The syncer reports what its watch delivered: the version as read, after the status write.
        resourceVersionOf: 'read',
        status: { readyReplicas: 2 },
      }),
    ]);
  });
});
