import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import { DynamoSyncStateStore } from '../../../lib/adapters/dynamodb/sync-state-store';
import { objectKey, typeKeyPrefix, type ObjectRef } from '../../../lib/api/object-ref';
import { TABLE } from '../../../lib/runtime/resources';
import { listCopies } from '../../../lib/vw-user/list-copies';
import { countRequests, startLocalTable, type LocalTable } from '../health/local-table';

const WS = 'root:default';

function ref(resource: 'deployments' | 'statefulsets', namespace: string, name: string): ObjectRef {
  return {
    workspace: WS,
    group: 'apps',
    version: 'v1',
    resource,
    kind: resource === 'deployments' ? 'Deployment' : 'StatefulSet',
    namespace,
    name,
  };
}

/** The aggregated view's reads against dynalite: gsi1 key ranges by type, `after` across pages, statuses by batch. */
describe('listCopies on the state table', () => {
  let table: LocalTable;
  let syncState: DynamoSyncStateStore;
  let statuses: DynamoStatusStore;

  beforeAll(async () => {
    table = await startLocalTable();
    syncState = new DynamoSyncStateStore({ doc: table.doc, tableName: table.tableName });
    statuses = new DynamoStatusStore({ doc: table.doc, tableName: table.tableName });
    for (const cluster of ['east', 'west']) {
      // placement's SyncTarget mirror: what knownClusters reads.
      await table.doc.send(
        new PutCommand({
          TableName: table.tableName,
          Item: {
            [TABLE.partitionKey]: `CLUSTER#${cluster}`,
            [TABLE.sortKey]: `META#${WS}`,
            gsi1pk: 'CLUSTERS',
            gsi1sk: `${WS}|${cluster}`,
          },
        }),
      );
    }
    const put = (r: ObjectRef, cluster: string): Promise<void> =>
      syncState.put({
        ref: r,
        cluster,
        state: 'applied',
        decisionVersion: 1,
        appliedGeneration: 1,
        updatedAt: '2026-01-01T00:00:00Z',
      });
    for (let i = 0; i < 5; i++) {
      await put(ref('deployments', 'a', `d${i}`), 'east');
      await put(ref('statefulsets', 'a', `s${i}`), 'east');
    }
    await put(ref('deployments', 'b', 'web'), 'east');
    await put(ref('deployments', 'b', 'web'), 'west');
    await put(ref('deployments', 'b', 'web2'), 'west');
    await statuses.put({
      ref: ref('deployments', 'b', 'web'),
      cluster: 'west',
      status: { readyReplicas: 1 },
      resourceVersion: '3',
      observedAt: '2026-01-01T00:00:00Z',
    });
  }, 60_000);
  afterAll(async () => {
    await table?.close();
  });

  it('reads one type by key range, with after, without the other type', async () => {
    const prefix = typeKeyPrefix(WS, { group: 'apps', resource: 'deployments' });
    const first = await syncState.listForCluster('east', { prefix, limit: 3 });
    expect(first.map((r) => r.ref.name)).toEqual(['d0', 'd1', 'd2']);
    const rest = await syncState.listForCluster('east', { prefix, after: objectKey(first[2].ref) });
    expect(rest.map((r) => r.ref.name)).toEqual(['d3', 'd4', 'web']);
    expect(await syncState.listForCluster('east', { prefix: `${prefix}b|`, after: `${prefix}a|d4` })).toHaveLength(1);
  });

  it('pages every copy once across clusters, with one Query per cluster a page touches', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    const counted = countRequests(table.doc);
    let pages = 0;
    do {
      const page = await listCopies(
        { syncState, statuses },
        {
          workspace: WS,
          type: { group: 'apps', resource: 'deployments' },
          selectsCluster: () => true,
          limit: 4,
          ...(token ? { continueToken: token } : {}),
        },
      );
      expect(page.failures).toEqual([]);
      seen.push(...page.copies.map((o) => `${o.metadata.name}@${o.metadata.labels?.['tmc.kcp.io/cluster']}`));
      token = page.continueToken;
      pages += 1;
    } while (token !== undefined && pages < 5);
    counted.stop();
    expect(seen).toEqual(['d0@east', 'd1@east', 'd2@east', 'd3@east', 'd4@east', 'web@east', 'web@west', 'web2@west']);
    expect(pages).toBe(3);
    expect(counted.requests.filter((r) => r === 'QueryCommand')).toHaveLength(
      3 /* knownClusters */ + 4 /* east, east, west, west */,
    );
  });

  it('gets one name on every cluster, with the status the cluster reported', async () => {
    const page = await listCopies(
      { syncState, statuses },
      {
        workspace: WS,
        type: { group: 'apps', resource: 'deployments' },
        namespace: 'b',
        name: 'web',
        selectsCluster: () => true,
        limit: 500,
      },
    );
    expect(page.copies.map((o) => [o.metadata.labels?.['tmc.kcp.io/cluster'], o.status])).toEqual([
      ['east', undefined],
      ['west', { readyReplicas: 1 }],
    ]);
  });
});
