import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ObjectRef } from '../../api/object-ref';
import type { ObjectSnapshot, ObjectSnapshotReader } from '../../ports/object-snapshot';
import { TABLE } from '../../runtime/resources';
import { queryPages } from './table';
import { parseStatusItem, STATUS_ITEM_ATTRIBUTES, STATUS_SK_PREFIX } from './status-store';
import { DECISION_SK, objPk, SYNC_SK_PREFIX } from './keys';
import { DECISION_VIEW_ATTRIBUTES, decisionView, parseSyncItem, SYNC_ITEM_ATTRIBUTES } from './sync-state-store';

export interface DynamoObjectSnapshotReaderOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
}

/**
 * The sort-key range of one Query that holds `DECISION`, every `STATUS#<cluster>` and every `SYNC#<cluster>` of an
 * object's partition and nothing else stored there today: the partition's sort keys are, in byte order, `DECISION` <
 * `STATUS#…` < `SYNC#…` (docs/state.md), and `SYNC$` is the first string after every `SYNC#…` ('$' follows '#'). A
 * `TRACE` item an older release wrote (it expires) sorts after the range and stays out of the read.
 */
const FIRST_SK = DECISION_SK;
const LAST_SK = 'SYNC$';

/**
 * One projection for the three item kinds: what their parsers read, so a decision's explanation and diff (up to many
 * KiB) are not returned. A projection does not lower the read units (DynamoDB counts the whole items), only the bytes
 * sent and parsed.
 */
const PROJECTION = [
  ...new Set([TABLE.sortKey, ...DECISION_VIEW_ATTRIBUTES, ...SYNC_ITEM_ATTRIBUTES, ...STATUS_ITEM_ATTRIBUTES]),
];
const PROJECTION_NAMES = Object.fromEntries(PROJECTION.map((attr, i) => [`#p${i}`, attr]));

/**
 * An object's decision, sync records and cluster statuses in one strongly consistent Query of its partition, where
 * the stores read them in three requests (GetItem DECISION, Query `SYNC#`, Query `STATUS#`). Each item is parsed by
 * its own store's parser. Status reporting reads this on every refresh.
 */
export class DynamoObjectSnapshotReader implements ObjectSnapshotReader {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoObjectSnapshotReaderOptions) {
    this.doc = options.doc;
    this.tableName = options.tableName;
  }

  async read(ref: ObjectRef): Promise<ObjectSnapshot> {
    const snapshot: ObjectSnapshot = { decision: undefined, syncRecords: [], statuses: [] };
    for await (const out of queryPages(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :first AND :last',
      ProjectionExpression: Object.keys(PROJECTION_NAMES).join(', '),
      ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey, ...PROJECTION_NAMES },
      ExpressionAttributeValues: { ':pk': objPk(ref), ':first': FIRST_SK, ':last': LAST_SK },
      // As GetItem DECISION and the two Queries it replaces: a refresh must see the state stored just before it.
      ConsistentRead: true,
    })) {
      for (const item of out.Items ?? []) add(snapshot, item);
    }
    return snapshot;
  }
}

/** Files one item of the range under its kind; a kind added to the range later is skipped, never mis-parsed. */
function add(snapshot: ObjectSnapshot, item: Record<string, unknown>): void {
  const sk = item[TABLE.sortKey];
  if (typeof sk !== 'string') return;
  if (sk === DECISION_SK) snapshot.decision = decisionView(item);
  else if (sk.startsWith(SYNC_SK_PREFIX)) snapshot.syncRecords.push(parseSyncItem(item));
  else if (sk.startsWith(STATUS_SK_PREFIX)) {
    const status = parseStatusItem(item);
    if (status) snapshot.statuses.push(status);
  }
}
