import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  paginateQuery,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type PutCommandInput,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { StaleGenerationError } from '../../errors/tmc-error';
import { TABLE } from '../../runtime/resources';

/**
 * How long the records of a deleted object (its `Deleted` decision, a copy's `deleted` sync item) are kept: DynamoDB's
 * TTL removes them after this (`expiresAt`), so what the periodic jobs read does not grow with churn. A new object of
 * the same name writes whole items without it.
 */
export const DELETED_RECORD_TTL_SECONDS = 7 * 24 * 3600;

/** The `expiresAt` attribute of a record that ends now (epoch seconds, DynamoDB's TTL format). */
export function deletedRecordExpiry(nowMs: number): Record<string, number> {
  return { [TABLE.ttlAttribute]: Math.floor(nowMs / 1000) + DELETED_RECORD_TTL_SECONDS };
}

/** True for DynamoDB's "condition not met", whichever client (plain or document) threw it. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err instanceof Error && err.name === 'ConditionalCheckFailedException')
  );
}

/**
 * A conditional Put. A failed condition means a newer generation or version is already recorded: it becomes
 * StaleGenerationError (category `stale`, strategy `ignore`), which consumers treat as done, not as a failure.
 */
export async function conditionalPut(
  doc: DynamoDBDocumentClient,
  input: PutCommandInput & { ConditionExpression: string },
  what: string,
): Promise<void> {
  try {
    await doc.send(new PutCommand(input));
  } catch (err) {
    if (isConditionalCheckFailed(err))
      throw new StaleGenerationError(`A newer ${what} is already recorded`, { cause: err, object: what });
    throw err;
  }
}

/** DynamoDB's limit of keys in one BatchGetItem request. */
const BATCH_GET_LIMIT = 100;
/** Requests spent on one chunk's UnprocessedKeys (throttling, or a 16 MiB answer) before leaving them unanswered. */
const BATCH_GET_ROUNDS = 4;

export type TableKey = Record<string, string>;

/**
 * Reads many items of the state table with as few requests as DynamoDB allows: BatchGetItem, 100 distinct keys a
 * request, asking again for UnprocessedKeys after a short backoff. `lib-dynamodb` sends one BatchGetItem but leaves
 * the chunking, the de-duplication (DynamoDB rejects a request that names a key twice) and UnprocessedKeys to the
 * caller, and no library the project uses does them, hence by hand. Strongly consistent when asked, like GetItem.
 *
 * The answer has an entry, keyed by {@link keyOf}, for every key DynamoDB answered: the item, or undefined when there
 * is none. A key still unprocessed after a few rounds has no entry; the caller reads it on its own if it needs it.
 */
export async function batchGetItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly TableKey[],
  options: { consistentRead?: boolean; projection?: readonly string[] } = {},
): Promise<Map<string, Record<string, unknown> | undefined>> {
  const answered = new Map<string, Record<string, unknown> | undefined>();
  const distinct = [...new Map(keys.map((k) => [keyOf(k), k])).values()];
  // The key attributes are always read: they say which key an item answers.
  const projected = options.projection
    ? [...new Set([TABLE.partitionKey, TABLE.sortKey, ...options.projection])]
    : undefined;
  const names = projected ? Object.fromEntries(projected.map((attr, i) => [`#p${i}`, attr])) : undefined;
  for (let start = 0; start < distinct.length; start += BATCH_GET_LIMIT) {
    let pending: Array<Record<string, unknown>> = distinct.slice(start, start + BATCH_GET_LIMIT);
    for (let round = 0; pending.length > 0 && round < BATCH_GET_ROUNDS; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** round));
      const out = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: options.consistentRead,
              ...(names
                ? { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names }
                : {}),
            },
          },
        }),
      );
      const unprocessed = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
      const left = new Set(unprocessed.map(keyOf));
      for (const key of pending) if (!left.has(keyOf(key))) answered.set(keyOf(key), undefined);
      for (const item of out.Responses?.[tableName] ?? []) answered.set(keyOf(item), item);
      pending = unprocessed;
    }
  }
  return answered;
}

/** `pk|sk` of a key or an item of the state table: how {@link batchGetItems} names what it answered. */
export function keyOf(item: Record<string, unknown>): string {
  return `${String(item[TABLE.partitionKey])}|${String(item[TABLE.sortKey])}`;
}

/**
 * The pages of a Query, one request each, through lib-dynamodb's paginator: the way tmc reads past DynamoDB's 1 MB page.
 * A caller that has enough `break`s out of its `for await`, and no further page is asked for.
 */
export function queryPages(doc: DynamoDBDocumentClient, input: QueryCommandInput): AsyncIterable<QueryCommandOutput> {
  // The paginator writes ExclusiveStartKey into the input it is given: a copy keeps the caller's object as it was.
  return paginateQuery({ client: doc }, { ...input });
}

/**
 * One gsi1 partition read page by page until `limit` items or its end, optionally only some attributes (a
 * ProjectionExpression: less to transfer and parse). `next` is DynamoDB's key to resume from, when more may follow.
 * By hand, not {@link queryPages}: each page asks for no more than the items still wanted, so `next` is exact.
 */
export async function queryIndexPartition(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  options: { limit: number; start?: Record<string, unknown>; attributes?: readonly string[] },
): Promise<{ items: Array<Record<string, unknown>>; next?: Record<string, unknown> }> {
  const items: Array<Record<string, unknown>> = [];
  const names = options.attributes ? Object.fromEntries(options.attributes.map((a, i) => [`#a${i}`, a])) : undefined;
  let start = options.start;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: TABLE.indexes[0].name,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ...(names ? { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names } : {}),
        Limit: Math.min(1000, options.limit - items.length),
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start && items.length < options.limit);
  return { items, ...(start ? { next: start } : {}) };
}
