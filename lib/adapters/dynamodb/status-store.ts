import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { objectKey, ObjectRefSchema, type ObjectRef } from '../../api/object-ref';
import type { ClusterStatusRecord, StatusStore } from '../../ports/status-store';
import { TABLE } from '../../runtime/resources';
import { objPk } from './keys';
import { batchGetItems, isConditionalCheckFailed, keyOf, type TableKey } from './table';

const StatusItemSchema = z.object({
  ref: ObjectRefSchema,
  cluster: z.string(),
  status: z.record(z.string(), z.unknown()),
  resourceVersion: z.string(),
  observedAt: z.string(),
  traceId: z.string().optional(),
});

export interface DynamoStatusStoreOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
}

/** Sort keys of status items: `STATUS#<cluster>`. */
export const STATUS_SK_PREFIX = 'STATUS#';
/** Every attribute of a status item that {@link parseStatusItem} reads. */
export const STATUS_ITEM_ATTRIBUTES: readonly string[] = Object.keys(StatusItemSchema.shape);

const statusKey = (ref: ObjectRef, cluster: string): TableKey => ({
  [TABLE.partitionKey]: objPk(ref),
  [TABLE.sortKey]: `${STATUS_SK_PREFIX}${cluster}`,
});

/** A status item as stored (a projection of {@link STATUS_ITEM_ATTRIBUTES} is enough). */
export function parseStatusItem(item: Record<string, unknown>): ClusterStatusRecord {
  return StatusItemSchema.parse(item);
}

/**
 * Kubernetes resourceVersions are opaque strings; every API server tmc talks to (etcd-backed, kcp, the simulator)
 * issues decimal integers, so they are compared as numbers. A non-numeric one sorts as 0: it is stored once and then
 * only replaced by a numeric one, never silently regressed.
 */
export function resourceVersionNumber(resourceVersion: string): number {
  return /^\d+$/.test(resourceVersion) ? Number(resourceVersion) : 0;
}

export class DynamoStatusStore implements StatusStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoStatusStoreOptions) {
    this.doc = options.doc;
    this.tableName = options.tableName;
  }

  async put(record: ClusterStatusRecord): Promise<'written' | 'stale'> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [TABLE.partitionKey]: objPk(record.ref),
            [TABLE.sortKey]: `${STATUS_SK_PREFIX}${record.cluster}`,
            ...StatusItemSchema.parse(record),
            rv: resourceVersionNumber(record.resourceVersion),
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #rv < :rv',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#rv': 'rv' },
          ExpressionAttributeValues: { ':rv': resourceVersionNumber(record.resourceVersion) },
        }),
      );
      return 'written';
    } catch (err) {
      if (isConditionalCheckFailed(err)) return 'stale';
      throw err;
    }
  }

  async get(ref: ObjectRef, cluster: string): Promise<ClusterStatusRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: statusKey(ref, cluster),
      }),
    );
    return out.Item ? parseStatusItem(out.Item) : undefined;
  }

  async getMany(refs: readonly ObjectRef[], cluster: string): Promise<Map<string, ClusterStatusRecord | undefined>> {
    const keyed = new Map(refs.map((ref) => [keyOf(statusKey(ref, cluster)), ref]));
    const answered = await batchGetItems(
      this.doc,
      this.tableName,
      refs.map((ref) => statusKey(ref, cluster)),
      {
        projection: STATUS_ITEM_ATTRIBUTES,
      },
    );
    const records = new Map<string, ClusterStatusRecord | undefined>();
    for (const [key, item] of answered) {
      const ref = keyed.get(key);
      if (ref) records.set(objectKey(ref), item ? parseStatusItem(item) : undefined);
    }
    return records;
  }

  async listForObject(ref: ObjectRef): Promise<ClusterStatusRecord[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :status)',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
        ExpressionAttributeValues: { ':pk': objPk(ref), ':status': STATUS_SK_PREFIX },
        ConsistentRead: true,
      }),
    );
    // Per-object status items are one per cluster: far below one page.
    return (out.Items ?? []).map(parseStatusItem);
  }

  async delete(ref: ObjectRef, cluster: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: statusKey(ref, cluster),
      }),
    );
  }
}
