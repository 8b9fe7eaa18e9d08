import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { queryPages } from '../../../lib/adapters/dynamodb/table';
import { TABLE } from '../../../lib/runtime/resources';
import { countRequests, startLocalTable, type LocalTable } from '../health/local-table';

/** queryPages is the one way the DynamoDB adapters read past a page: every page, one request each, none after a break. */
describe('queryPages', () => {
  let table: LocalTable;
  const index = TABLE.indexes[0];
  const input = (): Parameters<typeof queryPages>[1] => ({
    TableName: table.tableName,
    IndexName: index.name,
    KeyConditionExpression: '#g = :g',
    ExpressionAttributeNames: { '#g': index.partitionKey },
    ExpressionAttributeValues: { ':g': 'PAGES' },
    Limit: 2,
  });

  beforeAll(async () => {
    table = await startLocalTable();
    for (let i = 0; i < 5; i++) {
      await table.doc.send(
        new PutCommand({
          TableName: table.tableName,
          Item: {
            [TABLE.partitionKey]: `ITEM#${i}`,
            [TABLE.sortKey]: 'X',
            [index.partitionKey]: 'PAGES',
            [index.sortKey]: `ITEM#${i}`,
          },
        }),
      );
    }
  });

  afterAll(async () => table?.close());

  it('reads every page, one request each, and leaves the input as it was', async () => {
    const given = input();
    const counted = countRequests(table.doc);
    const seen: unknown[] = [];
    for await (const page of queryPages(table.doc, given))
      seen.push(...(page.Items ?? []).map((i) => i[index.sortKey]));
    counted.stop();
    expect(seen).toEqual(['ITEM#0', 'ITEM#1', 'ITEM#2', 'ITEM#3', 'ITEM#4']);
    // Two items a page: 2 + 2 + 1, the last page without a LastEvaluatedKey.
    expect(counted.requests).toEqual(['QueryCommand', 'QueryCommand', 'QueryCommand']);
    expect(given.ExclusiveStartKey).toBeUndefined();
  });

  it('asks for no further page after the caller breaks', async () => {
    const counted = countRequests(table.doc);
    for await (const page of queryPages(table.doc, input())) {
      expect(page.Items).toHaveLength(2);
      break;
    }
    counted.stop();
    expect(counted.requests).toEqual(['QueryCommand']);
  });
});
