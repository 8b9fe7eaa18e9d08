import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoHealthStore } from '../../../lib/adapters/dynamodb/health-store';
import { makeApiHandler } from '../../../lib/api-http/api-router';
import { StaticTokenSource } from '../../../lib/auth/token-source';
import { WebhookAuthenticator } from '../../../lib/auth/webhook-authenticator';
import { makeClusterFailureReporter } from '../../../lib/health/report-cluster-failure';
import { recordClusterObservation } from '../../../lib/health/record-observation';
import { classifyComponent } from '../../../lib/health/rules';
import { ClusterUnreachableError } from '../../../lib/errors/tmc-error';
import { startLocalTable, type LocalTable } from './local-table';

describe('DynamoHealthStore on dynalite', () => {
  let table: LocalTable;
  let store: DynamoHealthStore;
  const T0 = Date.parse('2026-01-01T00:00:00Z'); // a window boundary (epoch seconds divisible by 300)

  beforeAll(async () => {
    table = await startLocalTable();
    store = new DynamoHealthStore(table.doc, table.tableName);
  });
  afterAll(async () => {
    await table.close();
  });

  it('counts invocations with ADD, rolls five-minute windows, and lists components by key', async () => {
    for (let i = 0; i < 8; i += 1) await store.recordInvocation('sync-apply', { ok: i % 4 !== 0, at: T0 + i * 1000 });
    await store.recordInvocation('sync-apply', { ok: true, at: T0 + 301_000, backlogAgeSeconds: 42 });
    await store.recordInvocation('placement', { ok: true, at: T0 });
    const record = await store.getComponent('sync-apply');
    expect(record).toMatchObject({
      invocations: 9,
      errors: 2,
      windowStart: T0 / 1000 + 300,
      windowInvocations: 1,
      windowErrors: 0,
      prevWindowStart: T0 / 1000,
      prevWindowInvocations: 8,
      prevWindowErrors: 2,
      backlogAgeSeconds: 42,
      lastErrorAt: new Date(T0 + 4000).toISOString(),
    });
    expect(classifyComponent(record, T0 + 302_000)).toMatchObject({ state: 'Degraded', reason: 'ElevatedErrorRate' });
    const names = (listed: Array<{ component: string }>): string[] => listed.map((c) => c.component);
    expect(names(await store.listComponents(['sync-apply', 'ingress', 'placement']))).toEqual([
      'placement',
      'sync-apply',
    ]);
    expect(names(await store.listComponents(['placement']))).toEqual(['placement']);
  });

  it('writes cluster health conditionally on its version (probe and sync reporter racing lose nothing)', async () => {
    const at = new Date(T0).toISOString();
    await recordClusterObservation(store, 'east', { at, ok: true, latencyMs: 8, source: 'probe' });
    const report = makeClusterFailureReporter({ store, now: () => T0 });
    await Promise.all([
      report('east', new ClusterUnreachableError('ECONNREFUSED')),
      report('east', new ClusterUnreachableError('ECONNREFUSED')),
      recordClusterObservation(store, 'east', { at, ok: false, source: 'probe', detail: 'timeout' }),
    ]);
    const east = await store.getCluster('east');
    expect(east).toMatchObject({ state: 'Unhealthy', consecutiveFailures: 3, version: 4 });
    expect(east?.history).toHaveLength(4);
    expect(await store.putCluster({ ...east!, version: 5 }, 3)).toBe(false);
    expect((await store.listClusters()).map((c) => c.cluster)).toEqual(['east']);
  });

  it('forgets a cluster only at the version read', async () => {
    const at = new Date(T0).toISOString();
    await recordClusterObservation(store, 'gone', { at, ok: true, latencyMs: 8, source: 'probe' });
    const read = await store.getCluster('gone');
    await recordClusterObservation(store, 'gone', { at, ok: true, latencyMs: 9, source: 'probe' });
    expect(await store.deleteCluster('gone', read!.version)).toBe(false);
    expect(await store.deleteCluster('gone', read!.version + 1)).toBe(true);
    expect(await store.getCluster('gone')).toBeUndefined();
    expect(await store.deleteCluster('gone', read!.version + 1)).toBe(false);
  });

  it('serves /health from the table', async () => {
    const handler = makeApiHandler({
      store,
      authenticator: new WebhookAuthenticator(new StaticTokenSource(['t'])),
      now: () => T0 + 299_000,
    }); // within staleAfterSeconds of east's probe
    const res = await handler({
      version: '2.0',
      routeKey: 'GET /health',
      rawPath: '/health',
      rawQueryString: '',
      headers: { authorization: 'Bearer t' },
      requestContext: { http: { method: 'GET', path: '/health' } },
      isBase64Encoded: false,
    } as never);
    const body = JSON.parse(res.body ?? '{}');
    // east is Unhealthy and it is the only cluster: nowhere to run work.
    expect(res.statusCode).toBe(503);
    expect(body).toMatchObject({ state: 'Unhealthy', reason: 'AllClustersUnhealthy' });
    expect(body.components.find((c: { name: string }) => c.name === 'sync-apply')).toMatchObject({
      state: 'Degraded',
      recentInvocations: 9,
      recentErrors: 2,
    });
  });

  it("keeps component items off gsi1: a recorder's write is billed on the table only", async () => {
    // An item from when components were listed through gsi1 carries its keys until its next write.
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk: 'COMPONENT#status-up',
          sk: 'HEALTH',
          component: 'status-up',
          invocations: 4,
          gsi1pk: 'HEALTH',
          gsi1sk: 'COMPONENT#status-up',
        },
      }),
    );
    await store.recordInvocation('status-up', { ok: true, at: T0 });
    await store.recordInvocation('metrics-rollup', { ok: true, at: T0 });
    const indexed = await table.doc.send(
      new QueryCommand({
        TableName: table.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :c)',
        ExpressionAttributeValues: { ':pk': 'HEALTH', ':c': 'COMPONENT#' },
      }),
    );
    expect(indexed.Items).toEqual([]);
    expect(await store.getComponent('status-up')).toMatchObject({
      invocations: 5,
      lastSuccessAt: new Date(T0).toISOString(),
    });
    expect((await store.listComponents(['status-up', 'metrics-rollup'])).map((c) => c.invocations)).toEqual([1, 5]);
  });
});
