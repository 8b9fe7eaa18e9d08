import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { JsonPatchOperationSchema } from '../../api/crds/placement';
import { objectKey, type ObjectRef } from '../../api/object-ref';
import { StaleGenerationError } from '../../errors/tmc-error';
import {
  DecisionReasonSchema,
  SyncRecordSchema,
  syncRecordKey,
  type ClusterListOptions,
  type DecisionView,
  type SyncRecord,
  type SyncStateReads,
  type SyncStateStore,
} from '../../ports/sync-state-store';
import { MESSAGE_ATTRIBUTES, storedMessage } from './decision-item';
import { clusterPk, DECISION_SK, objectKeyPk, objPk, SYNC_SK_PREFIX } from './keys';
import { markStatusOfRemovedCopy, unmarkStatusOfRemovedCopy } from './status-store';
import { TABLE } from '../../runtime/resources';
import {
  batchGetItems,
  deletedRecordExpiry,
  isConditionalCheckFailed,
  keyOf,
  type TableKey,
  queryPages,
} from './table';

const SyncItemSchema = SyncRecordSchema;

// placement writes `clusters[{name, replicas, patch}]`; docs/state.md's first draft said `cluster`: both are read.
const DecisionItemSchema = z.object({
  decisionVersion: z.number(),
  clusters: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        cluster: z.string().optional(),
        replicas: z.number().int().nonnegative().optional(),
        patch: z.array(JsonPatchOperationSchema).optional(),
      }),
    )
    .default([]),
  scheduled: z.boolean().optional(),
  reason: DecisionReasonSchema.optional(),
  message: z.string().optional(),
  messageAround: z.tuple([z.string(), z.string()]).optional(),
  placement: z.string().optional(),
  replicaMode: z.enum(['Duplicated', 'Divided']).optional(),
});

export interface DynamoSyncStateStoreOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
}

const syncSk = (cluster: string): string => `${SYNC_SK_PREFIX}${cluster}`;
const syncKey = (ref: ObjectRef, cluster: string): TableKey => ({
  [TABLE.partitionKey]: objPk(ref),
  [TABLE.sortKey]: syncSk(cluster),
});
const decisionKey = (ref: ObjectRef): TableKey => ({ [TABLE.partitionKey]: objPk(ref), [TABLE.sortKey]: DECISION_SK });
/** Every attribute of a sync item that {@link parseSyncItem} reads. */
export const SYNC_ITEM_ATTRIBUTES: readonly string[] = Object.keys(SyncItemSchema.shape);
/** The decision attributes sync reads: not its explanation (up to many KiB), as in {@link DynamoSyncStateStore.decision}. */
export const DECISION_VIEW_ATTRIBUTES: readonly string[] = [
  'decisionVersion',
  'clusters',
  'scheduled',
  'reason',
  ...MESSAGE_ATTRIBUTES,
  'placement',
  'replicaMode',
];
/** One BatchGetItem has one projection for the table: every sync-item attribute plus the decision's that sync reads. */
const BATCH_PROJECTION = [...SYNC_ITEM_ATTRIBUTES, ...DECISION_VIEW_ATTRIBUTES];

/** The part of a decision item sync reads (a projection of {@link DECISION_VIEW_ATTRIBUTES} is enough). */
export function decisionView(item: Record<string, unknown>): DecisionView {
  const parsed = DecisionItemSchema.parse(item);
  const clusters = parsed.clusters.flatMap((c) => {
    const name = c.name ?? c.cluster;
    return name ? [{ name, replicas: c.replicas, patch: c.patch }] : [];
  });
  const message = storedMessage(
    parsed,
    clusters.map((c) => c.name),
  );
  return {
    decisionVersion: parsed.decisionVersion,
    clusters,
    ...(parsed.scheduled !== undefined ? { scheduled: parsed.scheduled } : {}),
    ...(parsed.reason !== undefined ? { reason: parsed.reason } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(parsed.placement !== undefined ? { placement: parsed.placement } : {}),
    ...(parsed.replicaMode !== undefined ? { replicaMode: parsed.replicaMode } : {}),
  };
}

/** A sync item as stored (a projection of {@link SYNC_ITEM_ATTRIBUTES} is enough). */
export function parseSyncItem(item: Record<string, unknown>): SyncRecord {
  return SyncItemSchema.parse(item);
}

/**
 * Sync items in the single table. Every put is conditional on (decisionVersion, appliedGeneration) so a late message
 * cannot overwrite newer progress; `gsi1pk = CLUSTER#<cluster>` makes "everything on a cluster" one Query.
 */
export class DynamoSyncStateStore implements SyncStateStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoSyncStateStoreOptions) {
    this.doc = options.doc;
    this.tableName = options.tableName;
  }

  async get(ref: ObjectRef, cluster: string): Promise<SyncRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: syncKey(ref, cluster),
        ConsistentRead: true,
      }),
    );
    return out.Item ? parseSyncItem(out.Item) : undefined;
  }

  async listForObject(ref: ObjectRef): Promise<SyncRecord[]> {
    const records: SyncRecord[] = [];
    for await (const out of queryPages(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :sync)',
      ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
      ExpressionAttributeValues: { ':pk': objPk(ref), ':sync': SYNC_SK_PREFIX },
      ConsistentRead: true,
    })) {
      records.push(...(out.Items ?? []).map(parseSyncItem));
    }
    return records;
  }

  async listForCluster(cluster: string, options: ClusterListOptions = {}): Promise<SyncRecord[]> {
    const index = TABLE.indexes[0];
    const records: SyncRecord[] = [];
    const filter = options.downstreamNamespace !== undefined;
    // gsi1sk of a sync item is `OBJ#<object key>`: the index returns the cluster's items in object-key order.
    const range = sortKeyRange(options.after, options.prefix);
    for await (const out of queryPages(this.doc, {
      TableName: this.tableName,
      IndexName: index.name,
      KeyConditionExpression: range === undefined ? '#g = :g' : `#g = :g AND ${range.condition}`,
      FilterExpression: filter ? '#ns = :ns AND #state <> :deleted' : undefined,
      ExpressionAttributeNames: {
        '#g': index.partitionKey,
        ...(range !== undefined ? { '#s': index.sortKey } : {}),
        ...(filter ? { '#ns': 'downstreamNamespace', '#state': 'state' } : {}),
      },
      ExpressionAttributeValues: {
        ':g': clusterPk(cluster),
        ...(range?.values ?? {}),
        ...(filter ? { ':ns': options.downstreamNamespace, ':deleted': 'deleted' } : {}),
      },
      Limit: options.limit,
    })) {
      // BETWEEN includes its lower bound: the `after` object itself is not part of the answer.
      const items = (out.Items ?? []).map(parseSyncItem);
      records.push(
        ...(range?.skipFirst === undefined ? items : items.filter((r) => objectKey(r.ref) !== range.skipFirst)),
      );
      if (options.limit !== undefined && records.length >= options.limit) break;
    }
    return options.limit === undefined ? records : records.slice(0, options.limit);
  }

  async put(record: SyncRecord): Promise<void> {
    // The copy's status is marked to expire before the sync item records the removal: a failure in between leaves
    // the copy not yet recorded removed, so the retry marks it again (it would skip an already `deleted` copy).
    const removedAt = record.state === 'deleted' ? Date.parse(record.updatedAt) || Date.now() : undefined;
    const marked =
      removedAt !== undefined &&
      (await markStatusOfRemovedCopy(this.doc, this.tableName, record.ref, record.cluster, removedAt));
    let previous: Record<string, unknown> | undefined;
    try {
      const out = await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          // What the put replaced comes back with it, at no extra cost: a copy recorded over a removed one.
          ReturnValues: removedAt === undefined ? 'ALL_OLD' : 'NONE',
          Item: {
            [TABLE.partitionKey]: objPk(record.ref),
            [TABLE.sortKey]: syncSk(record.cluster),
            ...SyncItemSchema.parse(record),
            // No copy left on the cluster: the record leaves gsi1 (what runs on the cluster), so the periodic jobs'
            // reads do not grow with churn, and expires (table.ts); a later apply writes the whole item anew.
            ...(record.state === 'deleted'
              ? deletedRecordExpiry(Date.parse(record.updatedAt) || Date.now())
              : {
                  [TABLE.indexes[0].partitionKey]: clusterPk(record.cluster),
                  [TABLE.indexes[0].sortKey]: objPk(record.ref),
                }),
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #dv < :dv OR (#dv = :dv AND #gen <= :gen)',
          ExpressionAttributeNames: {
            '#pk': TABLE.partitionKey,
            '#dv': 'decisionVersion',
            '#gen': 'appliedGeneration',
          },
          ExpressionAttributeValues: { ':dv': record.decisionVersion, ':gen': record.appliedGeneration },
        }),
      );
      previous = out.Attributes;
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        // A newer copy is recorded: its status must not expire.
        if (marked && removedAt !== undefined)
          await unmarkStatusOfRemovedCopy(this.doc, this.tableName, record.ref, record.cluster, removedAt);
        throw new StaleGenerationError(
          `A newer sync state is recorded for ${objectKey(record.ref)} on ${record.cluster}`,
          {
            cause: err,
            cluster: record.cluster,
          },
        );
      }
      throw err;
    }
    // A new copy where one was removed (re-placed, or an object of the same name): its status no longer expires.
    if (previous?.state === 'deleted')
      await unmarkStatusOfRemovedCopy(this.doc, this.tableName, record.ref, record.cluster);
  }

  async knownClusters(): Promise<string[]> {
    const index = TABLE.indexes[0];
    const names = new Set<string>();
    for await (const out of queryPages(this.doc, {
      TableName: this.tableName,
      IndexName: index.name,
      KeyConditionExpression: '#g = :g',
      ExpressionAttributeNames: { '#g': index.partitionKey },
      ExpressionAttributeValues: { ':g': 'CLUSTERS' },
    })) {
      for (const item of out.Items ?? []) {
        const sk = item[index.sortKey];
        if (typeof sk === 'string') names.add(sk.slice(sk.lastIndexOf('|') + 1));
      }
    }
    return [...names].sort();
  }

  async decision(ref: ObjectRef): Promise<DecisionView | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: decisionKey(ref),
        ConsistentRead: true,
        // The decision item also holds placement's explanation (up to many KiB): read only what sync needs.
        ProjectionExpression: DECISION_VIEW_ATTRIBUTES.map((_, i) => `#d${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(DECISION_VIEW_ATTRIBUTES.map((attr, i) => [`#d${i}`, attr])),
      }),
    );
    return out.Item ? decisionView(out.Item) : undefined;
  }

  async readMany(keys: {
    decisions: readonly ObjectRef[];
    records: ReadonlyArray<{ ref: ObjectRef; cluster: string }>;
  }): Promise<SyncStateReads> {
    const decisionRefs = new Map(keys.decisions.map((ref) => [keyOf(decisionKey(ref)), ref]));
    const recordRefs = new Map(keys.records.map((k) => [keyOf(syncKey(k.ref, k.cluster)), k]));
    const answered = await batchGetItems(
      this.doc,
      this.tableName,
      [...keys.decisions.map(decisionKey), ...keys.records.map((k) => syncKey(k.ref, k.cluster))],
      { consistentRead: true, projection: BATCH_PROJECTION },
    );
    const reads: SyncStateReads = { decisions: new Map(), records: new Map() };
    for (const [key, item] of answered) {
      const decisionRef = decisionRefs.get(key);
      if (decisionRef) reads.decisions.set(objectKey(decisionRef), item ? decisionView(item) : undefined);
      const record = recordRefs.get(key);
      if (record) reads.records.set(syncRecordKey(record.ref, record.cluster), item ? parseSyncItem(item) : undefined);
    }
    return reads;
  }
}

/**
 * The gsi1 sort-key condition for `after` and `prefix`: a DynamoDB key condition takes one comparison on the sort key,
 * so both together are a BETWEEN from `after` (inclusive, skipped by the caller) to the end of the prefix.
 */
function sortKeyRange(
  after: string | undefined,
  prefix: string | undefined,
): { condition: string; values: Record<string, string>; skipFirst?: string } | undefined {
  if (prefix === undefined)
    return after === undefined ? undefined : { condition: '#s > :after', values: { ':after': objectKeyPk(after) } };
  if (after === undefined || after < prefix)
    return { condition: 'begins_with(#s, :prefix)', values: { ':prefix': objectKeyPk(prefix) } };
  return {
    condition: '#s BETWEEN :after AND :end',
    values: { ':after': objectKeyPk(after), ':end': `${objectKeyPk(prefix)}\uffff` },
    skipFirst: after,
  };
}
