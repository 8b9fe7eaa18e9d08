import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { objectKey, ObjectRefSchema, typeKeyPrefix, type ObjectRef } from '../../api/object-ref';
import type {
  Absence,
  DeletionHold,
  PendingCleanup,
  PlannedRemoval,
  RecoveryAction,
  RecoveryStore,
  RetryState,
} from '../../ports/recovery-store';
import { objPk } from './keys';
import { TABLE } from '../../runtime/resources';
import { isConditionalCheckFailed, queryPages } from './table';

const DAY_SECONDS = 24 * 3600;
/** Recovery actions are an audit trail for people: a month is enough to answer "what did tmc do last week". */
const ACTION_TTL_SECONDS = 30 * DAY_SECONDS;
const RETRY_TTL_SECONDS = 14 * DAY_SECONDS;
const HOLDS_INDEX_PK = 'GUARDS';

const ActionSchema = z.object({
  action: z.enum([
    'failover',
    'cleanup',
    'resync-stuck',
    'resync-unplaced',
    'resync-unsynced',
    'resync-partial',
    'drift',
    'orphan-delete',
    'dlq-redrive',
    'dlq-park',
    'deletion-hold',
    'deletion-confirm',
  ]),
  outcome: z.enum(['enqueued', 'sent', 'succeeded', 'skipped', 'held', 'released', 'failed', 'parked']),
  why: z.string(),
  at: z.string(),
  workspace: z.string().optional(),
  cluster: z.string().optional(),
  ref: ObjectRefSchema.optional(),
});
const CleanupSchema = z.object({
  cluster: z.string(),
  ref: ObjectRefSchema,
  since: z.string(),
  sentAt: z.string().optional(),
});
const RetrySchema = z.object({
  attempts: z.number().int().nonnegative(),
  nextAt: z.number(),
  lastAt: z.string(),
  reason: z.string().optional(),
});
const CursorSchema = z.object({ after: z.string() });
const HoldSchema = z.object({
  scope: z.string(),
  reason: z.string(),
  planned: z.number(),
  total: z.number(),
  raisedAt: z.string(),
  refs: z.array(ObjectRefSchema),
  confirmedAt: z.string().optional(),
  confirmedBy: z.string().optional(),
  confirmedUntil: z.number().optional(),
  fingerprint: z.string().optional(),
  answerSince: z.string().optional(),
  plannedSince: z.record(z.string(), z.number()).optional(),
});
const AbsenceSchema = z.object({
  ref: ObjectRefSchema,
  firstSeenAt: z.number(),
  firstSeenRun: z.string().optional(),
  confirmedAt: z.number().optional(),
});
/** An absence matters for minutes; the TTL only tidies the table (readers judge its age themselves). */
const ABSENCE_TTL_SECONDS = DAY_SECONDS;

const PlannedRemovalSchema = z.object({ ref: ObjectRefSchema, firstSeenAt: z.number() });
/** Readers judge a planned removal's age themselves; the TTL only tidies the table. */
const REMOVAL_TTL_SECONDS = DAY_SECONDS;

const epochSeconds = (ms: number): number => Math.floor(ms / 1000);
const pick = <T>(schema: z.ZodType<T>, item: Record<string, unknown>): T => schema.parse(item);

/**
 * The recovery manager's items in the single table (docs/state.md). Every read is a GetItem or a Query on one
 * partition: nothing here scans. Items that only matter for a while carry `expiresAt` (TTL); dynalite never expires
 * them, so readers that care compare it themselves.
 */
export class DynamoRecoveryStore implements RecoveryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(pk: string, sk: string): Record<string, string> {
    return { [TABLE.partitionKey]: pk, [TABLE.sortKey]: sk };
  }

  async record(action: RecoveryAction): Promise<void> {
    const item = ActionSchema.parse(action);
    const at = Date.parse(action.at);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(`RECOVERY#${action.at.slice(0, 10)}`, `${action.at}#${randomUUID().slice(0, 8)}`),
          ...item,
          expiresAt: epochSeconds(at) + ACTION_TTL_SECONDS,
        },
      }),
    );
  }

  async actions(day: string, limit: number): Promise<RecoveryAction[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': `RECOVERY#${day}` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((i) => pick(ActionSchema, i));
  }

  async deferCleanup(cleanup: PendingCleanup): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(`CLEANUP#${cleanup.cluster}`, objPk(cleanup.ref)),
            ...CleanupSchema.parse(cleanup),
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err; // already recorded: keep the first `since`
    }
  }

  async pendingCleanups(cluster: string, limit: number): Promise<PendingCleanup[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': `CLEANUP#${cluster}` },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((i) => pick(CleanupSchema, i));
  }

  async markCleanupSent(cluster: string, ref: ObjectRef, at: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(`CLEANUP#${cluster}`, objPk(ref)),
        UpdateExpression: 'SET sentAt = :at',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async dropCleanup(cluster: string, ref: ObjectRef): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: this.key(`CLEANUP#${cluster}`, objPk(ref)) }),
    );
  }

  async retryState(key: string): Promise<RetryState | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(`RETRY#${key}`, 'RETRY'), ConsistentRead: true }),
    );
    return out.Item ? pick(RetrySchema, out.Item) : undefined;
  }

  async putRetryState(key: string, state: RetryState): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(`RETRY#${key}`, 'RETRY'),
          ...RetrySchema.parse(state),
          expiresAt: epochSeconds(Date.parse(state.lastAt)) + RETRY_TTL_SECONDS,
        },
      }),
    );
  }

  async clearRetryState(key: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(`RETRY#${key}`, 'RETRY') }));
  }

  async hold(scope: string): Promise<DeletionHold | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(`GUARD#${scope}`, 'HOLD'), ConsistentRead: true }),
    );
    return out.Item ? pick(HoldSchema, out.Item) : undefined;
  }

  /** A hold's item: listed on gsi1 `GUARDS` by scope. */
  private holdItem(hold: DeletionHold): Record<string, unknown> {
    return {
      ...this.key(`GUARD#${hold.scope}`, 'HOLD'),
      gsi1pk: HOLDS_INDEX_PK,
      gsi1sk: hold.scope,
      ...HoldSchema.parse(hold),
    };
  }

  async putHold(hold: DeletionHold): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: this.holdItem(hold) }));
  }

  async createHold(hold: DeletionHold): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.holdItem(hold),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  async holds(): Promise<DeletionHold[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: TABLE.indexes[0].name,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': HOLDS_INDEX_PK },
      }),
    );
    return (out.Items ?? []).map((i) => pick(HoldSchema, i));
  }

  async clearHold(scope: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(`GUARD#${scope}`, 'HOLD') }));
  }

  async noteRemoval(scope: string, ref: ObjectRef, at: number, since: number): Promise<number> {
    const key = this.key(`GUARD#${scope}`, `REMOVAL#${objectKey(ref)}`);
    try {
      // Kept when planned within the window; older (an earlier burst) or absent, this is the first planning.
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            ref: ObjectRefSchema.parse(ref),
            firstSeenAt: at,
            expiresAt: epochSeconds(at) + REMOVAL_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(firstSeenAt) OR firstSeenAt < :since',
          ExpressionAttributeValues: { ':since': since },
        }),
      );
      return at;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return pick(PlannedRemovalSchema, out.Item ?? {}).firstSeenAt;
  }

  async plannedRemovals(scope: string, since: number): Promise<PlannedRemoval[]> {
    const found: PlannedRemoval[] = [];
    for await (const out of queryPages(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      FilterExpression: 'firstSeenAt >= :since',
      ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
      ExpressionAttributeValues: { ':pk': `GUARD#${scope}`, ':prefix': 'REMOVAL#', ':since': since },
      ConsistentRead: true,
    })) {
      for (const item of out.Items ?? []) found.push(pick(PlannedRemovalSchema, item));
    }
    return found;
  }

  async sweepCursor(key: string): Promise<string | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(`CURSOR#${key}`, 'CURSOR'), ConsistentRead: true }),
    );
    return out.Item ? pick(CursorSchema, out.Item).after : undefined;
  }

  async putSweepCursor(key: string, after: string | undefined): Promise<void> {
    if (after === undefined) {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(`CURSOR#${key}`, 'CURSOR') }));
      return;
    }
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...this.key(`CURSOR#${key}`, 'CURSOR'), after } }),
    );
  }

  async countObjects(workspace: string, type?: { group: string; resource: string }): Promise<number> {
    // gsi1sk is the object key, `<workspace>|<group>|<resource>|…`: one type's decisions share that prefix.
    const prefix = type ? typeKeyPrefix(workspace, type) : undefined;
    let total = 0;
    for await (const out of queryPages(this.doc, {
      TableName: this.tableName,
      IndexName: TABLE.indexes[0].name,
      KeyConditionExpression: prefix ? 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)' : 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': `DECISIONS#${workspace}`, ...(prefix ? { ':prefix': prefix } : {}) },
      Select: 'COUNT',
    })) {
      total += out.Count ?? 0;
    }
    return total;
  }

  async absence(ref: ObjectRef): Promise<Absence | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.key(`ABSENT#${objectKey(ref)}`, 'ABSENT'),
        ConsistentRead: true,
      }),
    );
    return out.Item ? pick(AbsenceSchema, out.Item) : undefined;
  }

  async putAbsence(absence: Absence): Promise<void> {
    const item = AbsenceSchema.parse(absence);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(`ABSENT#${objectKey(absence.ref)}`, 'ABSENT'),
          ...item,
          expiresAt: epochSeconds(absence.firstSeenAt) + ABSENCE_TTL_SECONDS,
        },
      }),
    );
  }

  async clearAbsence(ref: ObjectRef): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: this.key(`ABSENT#${objectKey(ref)}`, 'ABSENT') }),
    );
  }
}
