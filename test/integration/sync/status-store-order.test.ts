import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { objectKey } from '../../../lib/api/object-ref';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import type { ClusterStatusRecord } from '../../../lib/ports/status-store';
import { TABLE } from '../../../lib/runtime/resources';
import { ref as refTo, TYPES } from '../../support/builders';
import { startLocalTable, type LocalTable } from '../health/local-table';

/**
 * An admission report carries the version its status write is applied onto (before the write); a read carries the
 * version read (after it). The store orders both kinds of one copy as the writes happened.
 */
describe('status store orders admission reports and reads of one copy (dynalite)', () => {
  let table: LocalTable;
  let statuses: DynamoStatusStore;
  let names = 0;
  let ref = refTo('root:default', TYPES.deployments, 'web');
  const record = (resourceVersion: string, readyReplicas: number, read = false): ClusterStatusRecord => ({
    ref,
    cluster: 'east',
    status: { readyReplicas },
    resourceVersion,
    ...(read ? { resourceVersionOf: 'read' as const } : {}),
    observedAt: '2026-12-07T03:00:00.000Z',
  });
  const report = (base: string, readyReplicas: number): ClusterStatusRecord => record(base, readyReplicas);
  const read = (at: string, readyReplicas: number): ClusterStatusRecord => record(at, readyReplicas, true);

  beforeAll(async () => {
    table = await startLocalTable();
    statuses = new DynamoStatusStore({ doc: table.doc, tableName: table.tableName });
  });
  beforeEach(() => {
    ref = refTo('root:default', TYPES.deployments, `web-${++names}`);
  });
  afterAll(async () => {
    await table.close();
  });

  it('a read at n stored (a backstop repair), then the report of the write onto n: written', async () => {
    expect(await statuses.put(read('10', 1))).toBe('written');
    expect(await statuses.put(report('10', 2))).toBe('written');
    expect((await statuses.get(ref, 'east'))?.status).toEqual({ readyReplicas: 2 });
    // Its duplicate, and a report of an earlier write, stay refused.
    expect(await statuses.put(report('10', 2))).toBe('stale');
    expect(await statuses.put(report('9', 0))).toBe('stale');
  });

  it('the report of the write onto n stored, then a read at n (before that write): stale', async () => {
    expect(await statuses.put(report('10', 2))).toBe('written');
    expect(await statuses.put(read('10', 1))).toBe('stale');
    expect((await statuses.get(ref, 'east'))?.status).toEqual({ readyReplicas: 2 });
  });

  it('a read at n+1 after the report of the write onto n (the version that write made): written', async () => {
    expect(await statuses.put(report('10', 2))).toBe('written');
    expect(await statuses.put(read('11', 2))).toBe('written');
    expect((await statuses.get(ref, 'east'))?.resourceVersion).toBe('11');
    expect(await statuses.put(report('10', 2))).toBe('stale');
  });

  it('an item written before the order existed (only `rv`) is replaced by the next report of its version', async () => {
    // As the earlier code stored a read at 10: no order attribute.
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          [TABLE.partitionKey]: `OBJ#${objectKey(ref)}`,
          [TABLE.sortKey]: 'STATUS#east',
          ...report('10', 1),
          rv: 10,
        },
      }),
    );
    expect(await statuses.put(report('9', 0))).toBe('stale');
    expect(await statuses.put(report('10', 2))).toBe('written');
    expect((await statuses.get(ref, 'east'))?.status).toEqual({ readyReplicas: 2 });
    // From then on it is ordered.
    expect(await statuses.put(read('10', 1))).toBe('stale');
  });
});
