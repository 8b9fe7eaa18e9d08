import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { deleteExpiredItems } from '../../../lib/local/expiry-sweep';
import { TABLE } from '../../../lib/runtime/resources';
import { startLocalTable, type LocalTable } from '../health/local-table';

/** DynamoDB's TTL for dynalite: items past their `expiresAt` go, the rest stay. */
describe('local expiry sweep (dynalite)', () => {
  let table: LocalTable;
  const now = Date.parse('2026-05-01T00:00:00Z');
  const nowSeconds = now / 1000;
  const put = (sk: string, expiresAt?: number): Promise<unknown> =>
    table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          [TABLE.partitionKey]: 'OBJ#x',
          [TABLE.sortKey]: sk,
          ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: expiresAt }),
        },
      }),
    );
  const exists = async (sk: string): Promise<boolean> =>
    (
      await table.doc.send(
        new GetCommand({ TableName: table.tableName, Key: { [TABLE.partitionKey]: 'OBJ#x', [TABLE.sortKey]: sk } }),
      )
    ).Item !== undefined;

  beforeAll(async () => {
    table = await startLocalTable();
  });
  afterAll(async () => {
    await table.close();
  });

  it('deletes expired items only', async () => {
    for (let i = 0; i < 5; i++) await put(`SYNC#expired-${i}`, nowSeconds - 60 - i);
    await put('SYNC#later', nowSeconds + 60);
    await put('DECISION');
    expect(await deleteExpiredItems(table.doc, table.tableName, now)).toEqual({ scanned: 7, deleted: 5 });
    expect(await exists('SYNC#expired-0')).toBe(false);
    expect(await exists('SYNC#later')).toBe(true);
    expect(await exists('DECISION')).toBe(true);
    // Nothing left to delete: a second run deletes nothing.
    expect((await deleteExpiredItems(table.doc, table.tableName, now)).deleted).toBe(0);
  });
});
