import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { objectKey, type ObjectRef } from '../../api/object-ref';
import { InternalError } from '../../errors/tmc-error';
import type {
  DecisionPage,
  DecisionStore,
  DecisionVersionPage,
  DecisionVersionReader,
  StoredDecision,
} from '../../ports/decision-store';
import { DecisionItemSchema, decodeDecision, encodeDecision } from './decision-item';
import { DECISION_SK, objectKeyPk, objPk } from './keys';
import { assertReadableSchema } from './schema-version';
import { TABLE } from '../../runtime/resources';
import { batchGetItems, conditionalPut, deletedRecordExpiry, keyOf, queryIndexPartition } from './table';

const CursorSchema = z.record(z.string(), z.unknown());
const VersionItemSchema = DecisionItemSchema.pick({
  ref: true,
  generation: true,
  uid: true,
  contentHash: true,
  reason: true,
  decidedAt: true,
});
const VERSION_ATTRIBUTES = ['ref', 'generation', 'uid', 'contentHash', 'reason', 'decidedAt'] as const;
const decisionKey = (ref: ObjectRef): Record<string, string> => ({
  [TABLE.partitionKey]: objPk(ref),
  [TABLE.sortKey]: DECISION_SK,
});
const workspaceIndexPk = (workspace: string): string => `DECISIONS#${workspace}`;

/** kcp resourceVersions are opaque but numeric in kcp and the simulator; compare numerically when they are. */
function rvNumber(rv: string | undefined): number | undefined {
  if (!rv || !/^[0-9]{1,15}$/.test(rv)) return undefined;
  return Number(rv);
}

function parse(item: Record<string, unknown>): StoredDecision {
  assertReadableSchema(item, 'A decision item');
  const parsed = DecisionItemSchema.safeParse(item);
  if (!parsed.success)
    throw new InternalError(
      `Decision item is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return decodeDecision(parsed.data);
}

/**
 * Decisions in the state table. Every put is conditional: version n+1 replaces exactly version n, and never a
 * decision that saw a newer resourceVersion, so late and duplicate messages cannot move a decision backwards.
 * Decision items also carry gsi1 `DECISIONS#<workspace>` / `<obj>` (an addition to docs/state.md) so a Placement
 * change can page through its workspace's objects without a scan.
 */
export class DynamoDecisionStore implements DecisionStore, DecisionVersionReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(ref: ObjectRef): Promise<StoredDecision | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: decisionKey(ref), ConsistentRead: true }),
    );
    return out.Item ? parse(out.Item) : undefined;
  }

  async getMany(refs: readonly ObjectRef[]): Promise<Map<string, StoredDecision | undefined>> {
    const keyed = new Map(refs.map((ref) => [keyOf(decisionKey(ref)), ref]));
    const answered = await batchGetItems(this.doc, this.tableName, refs.map(decisionKey), { consistentRead: true });
    const decisions = new Map<string, StoredDecision | undefined>();
    for (const [key, item] of answered) {
      const ref = keyed.get(key);
      if (ref) decisions.set(objectKey(ref), item ? parse(item) : undefined);
    }
    return decisions;
  }

  async put(next: StoredDecision): Promise<void> {
    const rv = rvNumber(next.resourceVersion);
    const item = {
      ...DecisionItemSchema.parse(encodeDecision(next)),
      ...(rv !== undefined ? { rvNumber: rv } : {}),
      [TABLE.partitionKey]: objPk(next.ref),
      [TABLE.sortKey]: DECISION_SK,
      // The object is gone (or going, its copies being removed): its decision leaves gsi1, so the workspace's pages
      // (recovery sweep passes, fan-outs) hold live objects only, and expires (table.ts). A delete whose messages are
      // lost is still finished: the sweep's lost-admission pass asks placement about an object kcp holds by tmc's
      // finalizer, with or without a decision on the page (lib/recovery/unplaced.ts).
      ...(next.reason === 'Deleted'
        ? deletedRecordExpiry(Date.parse(next.decidedAt) || Date.now())
        : { gsi1pk: workspaceIndexPk(next.ref.workspace), gsi1sk: objectKey(next.ref) }),
    };
    // Version 1 only where nothing is stored; version n+1 only over n, and never over a decision that saw a newer object.
    const first = next.decisionVersion === 1;
    const names: Record<string, string> = first ? { '#pk': TABLE.partitionKey } : { '#dv': 'decisionVersion' };
    const values: Record<string, unknown> = first ? {} : { ':expected': next.decisionVersion - 1 };
    let condition = first ? 'attribute_not_exists(#pk)' : '#dv = :expected';
    if (!first && rv !== undefined) {
      condition += ' AND (attribute_not_exists(#rv) OR #rv <= :rv)';
      names['#rv'] = 'rvNumber';
      values[':rv'] = rv;
    }
    await conditionalPut(
      this.doc,
      {
        TableName: this.tableName,
        Item: item,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ...(first ? {} : { ExpressionAttributeValues: values }),
      },
      `decision for ${objectKey(next.ref)}`,
    );
  }

  async listByWorkspace(
    workspace: string,
    options: { limit?: number; cursor?: string; unscheduledOnly?: boolean } = {},
  ): Promise<DecisionPage> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: TABLE.indexes[0].name,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: {
          ':pk': workspaceIndexPk(workspace),
          ...(options.unscheduledOnly ? { ':f': false } : {}),
        },
        ...(options.unscheduledOnly ? { FilterExpression: 'scheduled = :f' } : {}),
        Limit: options.limit ?? 100,
        ...(options.cursor
          ? {
              ExclusiveStartKey: CursorSchema.parse(
                JSON.parse(Buffer.from(options.cursor, 'base64url').toString('utf8')),
              ),
            }
          : {}),
      }),
    );
    return {
      decisions: (out.Items ?? []).map(parse),
      cursor: out.LastEvaluatedKey
        ? Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url')
        : undefined,
    };
  }

  /**
   * Only the version fields (a ProjectionExpression: no explanations to transfer and parse), resuming after the
   * object key `after`: gsi1 is sorted by object key, so the start key is rebuilt from it rather than stored.
   */
  async listVersions(workspace: string, options: { limit: number; after?: string }): Promise<DecisionVersionPage> {
    const start =
      options.after === undefined
        ? undefined
        : {
            [TABLE.partitionKey]: objectKeyPk(options.after),
            [TABLE.sortKey]: DECISION_SK,
            gsi1pk: workspaceIndexPk(workspace),
            gsi1sk: options.after,
          };
    const page = await queryIndexPartition(this.doc, this.tableName, workspaceIndexPk(workspace), {
      limit: options.limit,
      start,
      attributes: VERSION_ATTRIBUTES,
    });
    const versions = page.items.map((item) => {
      const parsed = VersionItemSchema.safeParse(item);
      if (!parsed.success)
        throw new InternalError(
          `Decision item of ${workspace} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      return parsed.data;
    });
    const last = versions[versions.length - 1];
    return { versions, ...(page.next && last ? { last: objectKey(last.ref) } : {}) };
  }
}
