import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InternalError } from '../../errors/tmc-error';
import { CircuitRecordSchema, type CircuitRecord, type CircuitStore } from '../../ports/circuit-store';
import { isConditionalCheckFailed } from './table';
import { clusterPk } from './keys';

/** `CLUSTER#<name>` / `CIRCUIT` (docs/state.md). */
export function circuitKey(cluster: string): { pk: string; sk: string } {
  return { pk: clusterPk(cluster), sk: 'CIRCUIT' };
}

/**
 * Circuits in the state table. Reads are strongly consistent (the breaker already caches per container; a stale read
 * here would only cost a lost compare-and-set). Writes are whole-item Puts conditional on `version`, so the record is
 * always one consistent snapshot.
 */
export class DynamoCircuitStore implements CircuitStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(cluster: string): Promise<CircuitRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: circuitKey(cluster), ConsistentRead: true }),
    );
    if (out.Item === undefined) return undefined;
    const parsed = CircuitRecordSchema.safeParse(out.Item);
    if (!parsed.success) {
      throw new InternalError(
        `Circuit item for ${cluster} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        { cluster },
      );
    }
    return parsed.data;
  }

  async compareAndSet(next: CircuitRecord, expectedVersion: number): Promise<boolean> {
    const record = CircuitRecordSchema.parse(next);
    return putIfVersion(this.doc, this.tableName, { ...record, ...circuitKey(record.cluster) }, expectedVersion);
  }
}

/** The condition that the stored `version` is `expectedVersion` (0: that the item is absent). */
function versionCondition(expectedVersion: number): {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  return expectedVersion === 0
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : {
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': expectedVersion },
      };
}

/** A conditional write: false when its condition failed (another writer won the race); other errors propagate. */
async function unlessRaced(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

/**
 * Puts a whole item only if its stored `version` is `expectedVersion` (0: only if absent). False when another writer
 * won the race; other errors propagate. Shared by the versioned health items.
 */
export async function putIfVersion(
  doc: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  expectedVersion: number,
): Promise<boolean> {
  return unlessRaced(() =>
    doc.send(new PutCommand({ TableName: tableName, Item: item, ...versionCondition(expectedVersion) })),
  );
}

/** Deletes an item only if its stored `version` is `expectedVersion`. False when another writer won the race. */
export async function deleteIfVersion(
  doc: DynamoDBDocumentClient,
  tableName: string,
  key: Record<string, unknown>,
  expectedVersion: number,
): Promise<boolean> {
  return unlessRaced(() =>
    doc.send(new DeleteCommand({ TableName: tableName, Key: key, ...versionCondition(expectedVersion) })),
  );
}
