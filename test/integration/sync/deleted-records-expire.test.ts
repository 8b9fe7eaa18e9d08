import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoRollupSources } from '../../../lib/adapters/dynamodb/rollup-sources';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import { DynamoSyncStateStore } from '../../../lib/adapters/dynamodb/sync-state-store';
import { DELETED_RECORD_TTL_SECONDS } from '../../../lib/adapters/dynamodb/table';
import { deleteExpiredItems } from '../../../lib/local/expiry-sweep';
import { computeRollup } from '../../../lib/metrics/rollup';
import type { StoredDecision } from '../../../lib/ports/decision-store';
import type { SyncRecord } from '../../../lib/ports/sync-state-store';
import { TABLE } from '../../../lib/runtime/resources';
import { startLocalTable, type LocalTable } from '../health/local-table';

/** The records of a deleted object carry DynamoDB's TTL attribute; a live object's never do, even after a re-create. */
describe('records of deleted objects expire (dynalite)', () => {
  let table: LocalTable;
  const ref: ObjectRef = {
    workspace: 'root:default',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespace: 'default',
    name: 'web',
  };
  const at = '2026-05-01T00:00:00.000Z';
  const expected = Date.parse(at) / 1000 + DELETED_RECORD_TTL_SECONDS;
  const expiresAt = async (sk: string): Promise<unknown> =>
    (
      await table.doc.send(
        new GetCommand({
          TableName: table.tableName,
          Key: { [TABLE.partitionKey]: `OBJ#${objectKey(ref)}`, [TABLE.sortKey]: sk },
        }),
      )
    ).Item?.[TABLE.ttlAttribute];

  beforeAll(async () => {
    table = await startLocalTable();
  });
  afterAll(async () => {
    await table.close();
  });

  it('a deleted copy and a Deleted decision expire; re-applying and re-placing clear it', async () => {
    const sync = new DynamoSyncStateStore({ doc: table.doc, tableName: table.tableName });
    const record: SyncRecord = {
      ref,
      cluster: 'east',
      state: 'applied',
      decisionVersion: 1,
      appliedGeneration: 1,
      updatedAt: at,
      appliedAt: at,
    };
    await sync.put(record);
    expect(await expiresAt('SYNC#east')).toBeUndefined();
    await sync.put({ ...record, state: 'deleted', decisionVersion: 2 });
    expect(await expiresAt('SYNC#east')).toBe(expected);
    await sync.put({ ...record, decisionVersion: 3 });
    expect(await expiresAt('SYNC#east')).toBeUndefined();

    const decisions = new DynamoDecisionStore(table.doc, table.tableName);
    const decision: StoredDecision = {
      ref,
      decisionVersion: 1,
      generation: 1,
      contentHash: 'h',
      clusters: [{ name: 'east' }],
      scheduled: true,
      reason: 'Scheduled',
      message: 'placed',
      explanation: [],
      explanationOmitted: 0,
      weights: {},
      diff: { added: ['east'], removed: [], changed: [], unchanged: [] },
      decidedAt: at,
    };
    await decisions.put(decision);
    expect(await expiresAt('DECISION')).toBeUndefined();
    await decisions.put({
      ...decision,
      decisionVersion: 2,
      clusters: [],
      scheduled: false,
      reason: 'Deleted',
      diff: { added: [], removed: ['east'], changed: [], unchanged: [] },
    });
    expect(await expiresAt('DECISION')).toBe(expected);
    await decisions.put({ ...decision, decisionVersion: 3 });
    expect(await expiresAt('DECISION')).toBeUndefined();
  });

  it("a removed copy's status expires with it, refuses the removed copy's late reports, and the sweep removes it", async () => {
    const statusRef: ObjectRef = { ...ref, name: 'status-web' };
    const sync = new DynamoSyncStateStore({ doc: table.doc, tableName: table.tableName });
    const statuses = new DynamoStatusStore({ doc: table.doc, tableName: table.tableName });
    const statusExpiry = async (cluster: string): Promise<unknown> =>
      (
        await table.doc.send(
          new GetCommand({
            TableName: table.tableName,
            Key: { [TABLE.partitionKey]: `OBJ#${objectKey(statusRef)}`, [TABLE.sortKey]: `STATUS#${cluster}` },
          }),
        )
      ).Item?.[TABLE.ttlAttribute];
    const report = (cluster: string, resourceVersion: string, reportedAt: string) => ({
      ref: statusRef,
      cluster,
      status: { readyReplicas: Number(resourceVersion) },
      resourceVersion,
      observedAt: '2026-05-01T00:10:00.000Z',
      reportedAt,
    });
    const applied: SyncRecord = {
      ref: statusRef,
      cluster: 'east',
      state: 'applied',
      decisionVersion: 1,
      appliedGeneration: 1,
      updatedAt: at,
      appliedAt: at,
    };
    // east reported before its copy was removed; west's copy was removed before any report of it was stored.
    await sync.put(applied);
    await sync.put({ ...applied, cluster: 'west' });
    expect(await statuses.put(report('east', '10', '2026-04-30T23:59:00.000Z'))).toBe('written');
    expect(await statusExpiry('east')).toBeUndefined();
    await sync.put({ ...applied, state: 'deleted', decisionVersion: 2 });
    await sync.put({ ...applied, cluster: 'west', state: 'deleted', decisionVersion: 2 });
    expect(await statusExpiry('east')).toBe(expected);
    expect(await statusExpiry('west')).toBe(expected);
    // The removed copies' reports that were still queued (made before the removal, newer resourceVersions) are refused.
    expect(await statuses.put(report('east', '12', '2026-04-30T23:59:30.000Z'))).toBe('stale');
    expect(await statuses.put(report('west', '11', '2026-04-30T23:59:30.000Z'))).toBe('stale');
    expect(await statusExpiry('east')).toBe(expected);
    // Readers see east's last report (its sync item says the copy is gone) and nothing for west's bare mark.
    expect((await statuses.listForObject(statusRef)).map((r) => r.cluster)).toEqual(['east']);
    expect(await statuses.get(statusRef, 'west')).toBeUndefined();
    // A ConfigMap has no status: its removal writes no mark.
    const configMap: ObjectRef = { ...ref, group: '', resource: 'configmaps', kind: 'ConfigMap', name: 'status-web' };
    await sync.put({ ...applied, ref: configMap, state: 'deleted' });
    expect(await statuses.listForObject(configMap)).toEqual([]);

    // The local sweep, once the records' time is up, leaves nothing of the object.
    const after = (Date.parse(at) / 1000 + DELETED_RECORD_TTL_SECONDS + 1) * 1000;
    await deleteExpiredItems(table.doc, table.tableName, after);
    expect(await statusExpiry('east')).toBeUndefined();
    expect(await statuses.listForObject(statusRef)).toEqual([]);
    expect(await sync.listForObject(statusRef)).toEqual([]);
  });

  it("a new copy's status never expires: re-placing takes the mark back, a stale removal too, its report replaces the item", async () => {
    const again: ObjectRef = { ...ref, name: 'again-web' };
    const sync = new DynamoSyncStateStore({ doc: table.doc, tableName: table.tableName });
    const statuses = new DynamoStatusStore({ doc: table.doc, tableName: table.tableName });
    const base: SyncRecord = {
      ref: again,
      cluster: 'east',
      state: 'applied',
      decisionVersion: 1,
      appliedGeneration: 1,
      updatedAt: at,
      appliedAt: at,
    };
    const statusItem = async (cluster: string): Promise<Record<string, unknown> | undefined> =>
      (
        await table.doc.send(
          new GetCommand({
            TableName: table.tableName,
            Key: { [TABLE.partitionKey]: `OBJ#${objectKey(again)}`, [TABLE.sortKey]: `STATUS#${cluster}` },
          }),
        )
      ).Item;
    // west reported, its copy was removed, then placed there again: the old status stays (until the new copy
    // reports) and no longer expires. east never reported: its bare mark goes.
    await sync.put(base);
    await sync.put({ ...base, cluster: 'west' });
    await statuses.put({
      ref: again,
      cluster: 'west',
      status: { readyReplicas: 2 },
      resourceVersion: '20',
      observedAt: at,
      reportedAt: at,
    });
    await sync.put({ ...base, state: 'deleted', decisionVersion: 2 });
    await sync.put({ ...base, cluster: 'west', state: 'deleted', decisionVersion: 2 });
    expect(await statusItem('east')).toHaveProperty(TABLE.ttlAttribute);
    expect(await statusItem('west')).toHaveProperty(TABLE.ttlAttribute);
    await sync.put({ ...base, decisionVersion: 3, updatedAt: '2026-05-01T00:05:00.000Z' });
    await sync.put({ ...base, cluster: 'west', decisionVersion: 3, updatedAt: '2026-05-01T00:05:00.000Z' });
    expect(await statusItem('east')).toBeUndefined();
    const west = await statusItem('west');
    expect(west?.[TABLE.ttlAttribute]).toBeUndefined();
    expect(west?.copyRemovedAt).toBeUndefined();
    expect(west?.status).toEqual({ readyReplicas: 2 });
    // A removal that lost to a newer copy (its sync put is stale) takes its mark back.
    await expect(sync.put({ ...base, cluster: 'west', state: 'deleted', decisionVersion: 2 })).rejects.toMatchObject({
      name: 'StaleGenerationError',
    });
    expect((await statusItem('west'))?.[TABLE.ttlAttribute]).toBeUndefined();
    const written = await statuses.put({
      ref: again,
      cluster: 'east',
      status: { readyReplicas: 1 },
      resourceVersion: '40',
      observedAt: '2026-05-01T00:06:00.000Z',
      reportedAt: '2026-05-01T00:05:30.000Z',
    });
    expect(written).toBe('written');
    const item = await table.doc.send(
      new GetCommand({
        TableName: table.tableName,
        Key: { [TABLE.partitionKey]: `OBJ#${objectKey(again)}`, [TABLE.sortKey]: 'STATUS#east' },
      }),
    );
    expect(item.Item?.[TABLE.ttlAttribute]).toBeUndefined();
    expect(item.Item?.copyRemovedAt).toBeUndefined();
    expect((await statuses.get(again, 'east'))?.status).toEqual({ readyReplicas: 1 });
  });

  it('a removal interrupted between its two writes leaves the status expiring, and its retry records the removal', async () => {
    const stalled: ObjectRef = { ...ref, name: 'stalled-web' };
    const sync = new DynamoSyncStateStore({ doc: table.doc, tableName: table.tableName });
    const statuses = new DynamoStatusStore({ doc: table.doc, tableName: table.tableName });
    const item = async (sk: string): Promise<Record<string, unknown> | undefined> =>
      (
        await table.doc.send(
          new GetCommand({
            TableName: table.tableName,
            Key: { [TABLE.partitionKey]: `OBJ#${objectKey(stalled)}`, [TABLE.sortKey]: sk },
          }),
        )
      ).Item;
    const applied: SyncRecord = {
      ref: stalled,
      cluster: 'east',
      state: 'applied',
      decisionVersion: 1,
      appliedGeneration: 1,
      updatedAt: at,
      appliedAt: at,
    };
    await sync.put(applied);
    await statuses.put({
      ref: stalled,
      cluster: 'east',
      status: { readyReplicas: 1 },
      resourceVersion: '5',
      observedAt: at,
      reportedAt: at,
    });
    // The removal's second write (the sync item's Put) fails, as when the function dies or DynamoDB times out.
    const name = 'fail-sync-put-once';
    let failed = 0;
    table.doc.middlewareStack.add(
      (next, context) => async (args) => {
        // The document client's PutCommand reaches this stack as PutItemCommand, its Item marshalled.
        const isSyncPut =
          /^Put(Item)?Command$/.test(context.commandName ?? '') &&
          JSON.stringify(args.input).includes(`"SYNC#east"`) &&
          JSON.stringify(args.input).includes('stalled-web');
        if (isSyncPut && failed === 0) {
          failed += 1;
          throw new Error('the removal stalled between its two writes');
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
    const removal: SyncRecord = { ...applied, state: 'deleted', decisionVersion: 2 };
    try {
      await expect(sync.put(removal)).rejects.toThrow('stalled between its two writes');
    } finally {
      table.doc.middlewareStack.remove(name);
    }
    expect(failed).toBe(1);
    // Between the writes: the status already expires with the copy, the sync item still records the copy.
    expect((await item('STATUS#east'))?.[TABLE.ttlAttribute]).toBe(expected);
    expect((await item('SYNC#east'))?.state).toBe('applied');
    // The message's retry runs the removal again: both writes land, the status keeps its expiry and its last report.
    await sync.put({ ...removal, updatedAt: '2026-05-01T00:00:05.000Z' });
    expect((await item('SYNC#east'))?.state).toBe('deleted');
    const status = await item('STATUS#east');
    expect(status?.[TABLE.ttlAttribute]).toBe(
      Date.parse('2026-05-01T00:00:05.000Z') / 1000 + DELETED_RECORD_TTL_SECONDS,
    );
    expect(status?.status).toEqual({ readyReplicas: 1 });
  });
});

/**
 * Items DynamoDB read to answer `doc`'s Queries until `stop()` (ScannedCount: what a filter drops is read and billed
 * too), counted below the document client so whatever a store sends is seen.
 */
function countItemsRead(doc: DynamoDBDocumentClient): { read: () => number; stop: () => void } {
  let items = 0;
  const name = `countItemsRead-${Math.random().toString(36).slice(2)}`;
  doc.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const output: object = result.output;
      if ('ScannedCount' in output && typeof output.ScannedCount === 'number') items += output.ScannedCount;
      return result;
    },
    { step: 'initialize', name },
  );
  return { read: () => items, stop: () => void doc.middlewareStack.remove(name) };
}

/**
 * The periodic jobs read a cluster's sync items (metrics-rollup's census, the recovery sweep's page) and a
 * workspace's decisions (the sweep's lost-admission, lost-sync and partial passes, placement's fan-outs) through
 * gsi1. A deleted object's records leave the index, so what those reads cost does not grow as objects come and go.
 */
describe('periodic reads under churn (dynalite)', () => {
  let table: LocalTable;
  const workspace = 'root:churn';
  const clusters = ['east', 'west', 'edge'];
  const at = '2026-05-01T00:00:00.000Z';
  const refOf = (name: string): ObjectRef => ({
    workspace,
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespace: 'default',
    name,
  });
  const placed = (ref: ObjectRef): StoredDecision => ({
    ref,
    decisionVersion: 1,
    generation: 1,
    contentHash: 'h',
    clusters: clusters.map((name) => ({ name })),
    scheduled: true,
    reason: 'Scheduled',
    message: 'placed',
    explanation: [],
    explanationOmitted: 0,
    weights: {},
    diff: { added: clusters, removed: [], changed: [], unchanged: [] },
    decidedAt: at,
  });
  const applied = (ref: ObjectRef, cluster: string): SyncRecord => ({
    ref,
    cluster,
    state: 'applied',
    decisionVersion: 1,
    appliedGeneration: 1,
    updatedAt: at,
    appliedAt: at,
  });

  beforeAll(async () => {
    table = await startLocalTable();
  });
  afterAll(async () => {
    await table.close();
  });

  it('reads as many items after 20 objects came and went as before', async () => {
    const decisions = new DynamoDecisionStore(table.doc, table.tableName);
    const sync = new DynamoSyncStateStore({ doc: table.doc, tableName: table.tableName });
    const create = async (ref: ObjectRef): Promise<void> => {
      await decisions.put(placed(ref));
      await Promise.all(clusters.map((cluster) => sync.put(applied(ref, cluster))));
    };
    const remove = async (ref: ObjectRef): Promise<void> => {
      await decisions.put({
        ...placed(ref),
        decisionVersion: 2,
        clusters: [],
        scheduled: false,
        reason: 'Deleted',
        diff: { added: [], removed: clusters, changed: [], unchanged: [] },
      });
      for (const cluster of clusters)
        await sync.put({ ...applied(ref, cluster), state: 'deleted', decisionVersion: 2 });
    };
    const rollup = new DynamoRollupSources({
      doc: table.doc,
      tableName: table.tableName,
      health: { listClusters: async () => [] },
      circuits: { get: async () => undefined },
      mirror: { knownClusters: async () => clusters },
      queues: { queueDepths: async () => [] },
    });
    // What each periodic job reads in one run, in items DynamoDB read.
    const periodicReads = async (): Promise<Record<string, number>> => {
      const reads: Record<string, () => Promise<unknown>> = {
        'metrics-rollup census': () => computeRollup(rollup, Date.parse(at)),
        'recovery-sweep cluster pages': () => Promise.all(clusters.map((c) => sync.listForCluster(c, { limit: 1000 }))),
        'recovery-sweep decision versions': () => decisions.listVersions(workspace, { limit: 1000 }),
        'recovery-sweep decision page': () => decisions.listByWorkspace(workspace, { limit: 1000 }),
      };
      const out: Record<string, number> = {};
      for (const [job, read] of Object.entries(reads)) {
        const counter = countItemsRead(table.doc);
        await read();
        counter.stop();
        out[job] = counter.read();
      }
      return out;
    };

    for (let i = 0; i < 5; i++) await create(refOf(`live-${i}`));
    const before = await periodicReads();
    expect(before['metrics-rollup census']).toBe(5 * clusters.length);
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await create(refOf(`gone-${i}`));
        await remove(refOf(`gone-${i}`));
      }),
    );
    expect(await periodicReads()).toEqual(before);
  });
});
