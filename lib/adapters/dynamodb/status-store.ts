import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { objectKey, ObjectRefSchema, type ObjectRef } from '../../api/object-ref';
import { STATUSLESS_KINDS, type ClusterStatusRecord, type StatusStore } from '../../ports/status-store';
import { TABLE } from '../../runtime/resources';
import { objPk } from './keys';
import { batchGetItems, deletedRecordExpiry, isConditionalCheckFailed, keyOf, type TableKey } from './table';

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
/**
 * Epoch ms at which the cluster's copy was recorded removed ({@link markStatusOfRemovedCopy}); the item then expires
 * with the copy's sync item, and only a report made after that time (a new copy's) may replace it.
 */
const COPY_REMOVED_AT = 'copyRemovedAt';
/** Every attribute of a status item that {@link parseStatusItem} reads. */
export const STATUS_ITEM_ATTRIBUTES: readonly string[] = [...Object.keys(StatusItemSchema.shape), COPY_REMOVED_AT];
/** An item that holds only a removal mark: written where the removed copy had no status stored. */
const RemovalMarkSchema = z.object({ [COPY_REMOVED_AT]: z.number() });

const statusKey = (ref: ObjectRef, cluster: string): TableKey => ({
  [TABLE.partitionKey]: objPk(ref),
  [TABLE.sortKey]: `${STATUS_SK_PREFIX}${cluster}`,
});

/**
 * A status item as stored (a projection of {@link STATUS_ITEM_ATTRIBUTES} is enough); undefined for a bare removal
 * mark, which holds no status.
 */
export function parseStatusItem(item: Record<string, unknown>): ClusterStatusRecord | undefined {
  if (item.status === undefined && RemovalMarkSchema.safeParse(item).success) return undefined;
  return StatusItemSchema.parse(item);
}

/** When the report was made, epoch ms: a message's `reportedAt`, else when it was stored. */
function reportedAtMs(record: ClusterStatusRecord): number {
  const reported = Date.parse(record.reportedAt ?? record.observedAt);
  return Number.isNaN(reported) ? Date.now() : reported;
}

/**
 * The cluster's copy of `ref` was removed at `atMs` (its sync item is being recorded `deleted`): its status item
 * expires with the sync item (DynamoDB's TTL; lib/local/expiry-sweep.ts locally), or a bare mark that expires alike is
 * written where none was stored, so a report of the removed copy that arrives late (made before `atMs`) is refused
 * instead of storing an item that never expires. A new copy's report, made after `atMs`, replaces the item whole,
 * without the expiry. A mark never moves back in time. Kinds whose status is never stored get nothing. True when this
 * call set the mark (for {@link unmarkStatusOfRemovedCopy}).
 */
export async function markStatusOfRemovedCopy(
  doc: DynamoDBDocumentClient,
  tableName: string,
  ref: ObjectRef,
  cluster: string,
  atMs: number,
): Promise<boolean> {
  if (STATUSLESS_KINDS.has(ref.kind)) return false;
  const expiry = deletedRecordExpiry(atMs);
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: statusKey(ref, cluster),
        UpdateExpression: 'SET #exp = :exp, #removed = :at',
        ConditionExpression: 'attribute_not_exists(#removed) OR #removed < :at',
        ExpressionAttributeNames: { '#exp': TABLE.ttlAttribute, '#removed': COPY_REMOVED_AT },
        ExpressionAttributeValues: { ':exp': expiry[TABLE.ttlAttribute], ':at': atMs },
      }),
    );
    return true;
  } catch (err) {
    // A later removal already marked it: that mark stands.
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

/**
 * Takes back a removal mark: the one {@link markStatusOfRemovedCopy} set at `atMs` when the removal was not recorded
 * after all (a newer copy's sync item was there), or any mark when a new copy was recorded over a removed one (its
 * status may not change for days, and must not expire meanwhile). The stored status stays, without expiry; a bare mark
 * goes. With `atMs`, a mark set since by another removal is left.
 */
export async function unmarkStatusOfRemovedCopy(
  doc: DynamoDBDocumentClient,
  tableName: string,
  ref: ObjectRef,
  cluster: string,
  atMs?: number,
): Promise<void> {
  if (STATUSLESS_KINDS.has(ref.kind)) return;
  const ours = atMs === undefined ? 'attribute_exists(#removed)' : '#removed = :at';
  const values = atMs === undefined ? undefined : { ':at': atMs };
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: statusKey(ref, cluster),
        UpdateExpression: 'REMOVE #exp, #removed',
        ConditionExpression: `${ours} AND attribute_exists(#status)`,
        ExpressionAttributeNames: { '#exp': TABLE.ttlAttribute, '#removed': COPY_REMOVED_AT, '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
    return;
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
  }
  try {
    await doc.send(
      new DeleteCommand({
        TableName: tableName,
        Key: statusKey(ref, cluster),
        ConditionExpression: `${ours} AND attribute_not_exists(#status)`,
        ExpressionAttributeNames: { '#removed': COPY_REMOVED_AT, '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
  } catch (err) {
    // No mark of this removal (none, or a later one's): nothing to take back.
    if (!isConditionalCheckFailed(err)) throw err;
  }
}

/**
 * Kubernetes resourceVersions are opaque strings; every API server tmc talks to (etcd-backed, kcp, the simulator)
 * issues decimal integers, so they are compared as numbers. A non-numeric one sorts as 0: it is stored once and then
 * only replaced by a numeric one, never silently regressed.
 */
export function resourceVersionNumber(resourceVersion: string): number {
  return /^\d+$/.test(resourceVersion) ? Number(resourceVersion) : 0;
}

/**
 * Attribute holding {@link statusOrder}, what a put is conditioned on. Items written before it existed hold only `rv`
 * (the version number, of either kind): such an item is taken as older than any report of its version or later (it is
 * replaced once, by the next one, and from then on has an order), and `rv` is still written for code that reads it.
 */
const STATUS_ORDER = 'rvOrder';

/**
 * Where a status sits in its copy's history. An admission report carries the version its status write is applied
 * onto (n, the write then makes some m > n); a read carries the version read. A read at n saw the object before the
 * write onto n, and a read at m after it, so: a read at n sorts 2n, a report of the write onto n 2n + 1. Both kinds
 * of one copy then order as the writes did, and neither refuses the other's next version as stale.
 */
function statusOrder(record: Pick<ClusterStatusRecord, 'resourceVersion' | 'resourceVersionOf'>): number {
  const n = resourceVersionNumber(record.resourceVersion);
  return record.resourceVersionOf === 'read' ? 2 * n : 2 * n + 1;
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
            [STATUS_ORDER]: statusOrder(record),
          },
          // Later than what is stored (an item without an order: of no later version), and, where the copy was
          // removed, made after that (a new copy's report).
          ConditionExpression:
            'attribute_not_exists(#pk) OR ((#order < :order OR (attribute_not_exists(#order) AND (attribute_not_exists(#rv) OR #rv <= :rv))) AND (attribute_not_exists(#removed) OR #removed < :reported))',
          ExpressionAttributeNames: {
            '#pk': TABLE.partitionKey,
            '#order': STATUS_ORDER,
            '#rv': 'rv',
            '#removed': COPY_REMOVED_AT,
          },
          ExpressionAttributeValues: {
            ':order': statusOrder(record),
            ':rv': resourceVersionNumber(record.resourceVersion),
            ':reported': reportedAtMs(record),
          },
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
        // Read what status-up just stored, not a replica behind it: a stale read is a status the backstop re-writes.
        ConsistentRead: true,
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
        consistentRead: true,
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
    return (out.Items ?? []).flatMap((item) => parseStatusItem(item) ?? []);
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
