import { systemClock, type Clock } from '../../ports/clock';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ReceivedChange, SeenStore } from '../../ports/seen-store';
import { TABLE } from '../../runtime/resources';
import { isConditionalCheckFailed } from './table';

export interface DynamoSeenStoreOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /**
   * How long a version is remembered for dedup. Long enough to cover the gap between an admission and the watch event
   * of the same write (seconds); after it the same version is enqueued again.
   */
  ttlSeconds?: number;
  /** How long the item itself is kept: it is also the `received` step of `tmc trace` (TRACE_TTL_SECONDS). */
  retentionSeconds?: number;
  now?: Clock;
}

/** How long `tmc trace` can show an object's last change: the seen item, which holds its start, lives this long. */
export const TRACE_TTL_SECONDS = 7 * 24 * 3600;

/**
 * `SEEN#<obj>` / `SEEN` items (docs/state.md). One conditional Put per call: it succeeds when no record exists, the
 * fingerprint differs, or the dedup window (`dedupUntil`) has passed. The same put records the change it starts
 * (trace id, time, reason) for `tmc trace`, so tracing costs no write of its own; the item expires (`expiresAt`)
 * after {@link TRACE_TTL_SECONDS}.
 */
export class DynamoSeenStore implements SeenStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly ttlSeconds: number;
  private readonly retentionSeconds: number;
  private readonly now: Clock;

  constructor(options: DynamoSeenStoreOptions) {
    this.doc = options.doc;
    this.tableName = options.tableName;
    this.ttlSeconds = options.ttlSeconds ?? 600;
    this.retentionSeconds = Math.max(this.ttlSeconds, options.retentionSeconds ?? TRACE_TTL_SECONDS);
    this.now = options.now ?? systemClock;
  }

  async markSeen(key: string, fingerprint: string, received?: ReceivedChange): Promise<boolean> {
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
            dedupUntil: nowSeconds + this.ttlSeconds,
            [TABLE.ttlAttribute]: nowSeconds + this.retentionSeconds,
            ...(received ? { traceId: received.traceId, receivedAt: received.at, reason: received.reason } : {}),
          },
          // Items written before `dedupUntil` existed expired for dedup at `expiresAt`.
          ConditionExpression:
            'attribute_not_exists(#pk) OR #fp <> :fp OR #until <= :now OR (attribute_not_exists(#until) AND #exp <= :now)',
          ExpressionAttributeNames: {
            '#pk': TABLE.partitionKey,
            '#fp': 'fingerprint',
            '#until': 'dedupUntil',
            '#exp': TABLE.ttlAttribute,
          },
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
