import { DeleteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '../adapters/dynamodb/table';
import type { Log } from '../observability/log';
import { TABLE } from '../runtime/resources';

/** How often the local stack deletes expired items (DynamoDB's TTL deletes within days; readers never rely on it). */
const EXPIRY_SWEEP_SECONDS = 10 * 60;

/**
 * DynamoDB's TTL, which dynalite lacks: deletes every item whose `expiresAt` (epoch seconds) is past, each only while
 * it still is (a conditional delete: an item rewritten without an expiry since the scan stays). Like the cloud's TTL
 * it is lazy and no reader depends on it; it keeps a long-running local table from holding every expired record.
 * Local only: a Scan of the whole table, as DynamoDB's own TTL process does in the background.
 */
export async function deleteExpiredItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  nowMs: number,
): Promise<{ scanned: number; deleted: number }> {
  const now = Math.floor(nowMs / 1000);
  const names = { '#exp': TABLE.ttlAttribute, '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey };
  let scanned = 0;
  let deleted = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#exp < :now',
        ProjectionExpression: '#pk, #sk',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':now': now },
        ExclusiveStartKey: start,
      }),
    );
    scanned += page.ScannedCount ?? 0;
    for (const item of page.Items ?? []) {
      try {
        await doc.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { [TABLE.partitionKey]: item[TABLE.partitionKey], [TABLE.sortKey]: item[TABLE.sortKey] },
            ConditionExpression: '#exp < :now',
            ExpressionAttributeNames: { '#exp': TABLE.ttlAttribute },
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        deleted += 1;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return { scanned, deleted };
}

/**
 * Runs {@link deleteExpiredItems} every `everySeconds` until stopped, then `compact` (dynalite's LevelDB files, which
 * otherwise keep every overwritten version and deletion: lib/local/emulator-worker.mjs); a failed run is logged and
 * tried next time.
 */
export function startExpirySweeper(options: {
  doc: DynamoDBDocumentClient;
  tableName: string;
  logger: Log;
  everySeconds?: number;
  compact?: () => Promise<unknown>;
}): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(
    () => {
      if (running) return;
      running = deleteExpiredItems(options.doc, options.tableName, Date.now())
        .then(async ({ deleted }) => {
          if (deleted > 0) options.logger.info(`Deleted ${deleted} expired item(s) from ${options.tableName}`);
          await options.compact?.();
        })
        .catch((err: unknown) =>
          options.logger.warn('Deleting expired items or compacting the table failed; trying again next time', {
            error: err,
          }),
        )
        .finally(() => {
          running = undefined;
        });
    },
    (options.everySeconds ?? EXPIRY_SWEEP_SECONDS) * 1000,
  );
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
