import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SeenStore } from '../../ports/seen-store';
import { TABLE } from '../../runtime/resources';
import { isConditionalCheckFailed } from './table';

export interface DynamoSeenStoreOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /**
   * How long a version is remembered. Long enough to cover the gap between an admission and the watch event of the
   * same write (seconds), short enough that the table does not grow with every object ever seen.
   */
  ttlSeconds?: number;
  now?: () => number;
}

/**
 * `SEEN#<obj>` / `SEEN` items (docs/state.md). One conditional Put per call: it succeeds when no record exists, the
 * fingerprint differs, or the record has expired (dynalite and DynamoDB's lazy TTL both keep expired items, so expiry
 * is part of the condition).
 */
export class DynamoSeenStore implements SeenStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly ttlSeconds: number;
  private readonly now: () => number;

  constructor(options: DynamoSeenStoreOptions) {
    this.doc = options.doc;
    this.tableName = options.tableName;
    this.ttlSeconds = options.ttlSeconds ?? 600;
    this.now = options.now ?? Date.now;
  }

  async markSeen(key: string, fingerprint: string): Promise<boolean> {
    const nowMs = this.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [TABLE.partitionKey]: `SEEN#${key}`,
            [TABLE.sortKey]: 'SEEN',
            fingerprint,
            seenAt: new Date(nowMs).toISOString(),
            [TABLE.ttlAttribute]: nowSeconds + this.ttlSeconds,
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #fp <> :fp OR #exp <= :now',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#fp': 'fingerprint', '#exp': TABLE.ttlAttribute },
          ExpressionAttributeValues: { ':fp': fingerprint, ':now': nowSeconds },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  async forget(key: string, fingerprint: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [TABLE.partitionKey]: `SEEN#${key}`, [TABLE.sortKey]: 'SEEN' },
          // Only our own record: a newer version recorded meanwhile must stay.
          ConditionExpression: '#fp = :fp',
          ExpressionAttributeNames: { '#fp': 'fingerprint' },
          ExpressionAttributeValues: { ':fp': fingerprint },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return;
      throw err;
    }
  }
}
