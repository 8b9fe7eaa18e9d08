import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoSyncStateStore } from '../../../lib/adapters/dynamodb/sync-state-store';
import { DELETED_RECORD_TTL_SECONDS } from '../../../lib/adapters/dynamodb/table';
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
});
