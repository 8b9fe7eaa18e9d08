import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { objectKey, type ObjectRef } from '../../api/object-ref';
import type { ObjectTrace, ObjectTraceReader, TraceStep } from '../../ports/object-trace';
import { TABLE } from '../../runtime/resources';
import { queryPages } from './table';
import { parseStatusItem, STATUS_SK_PREFIX } from './status-store';
import { storedSent } from './decision-item';
import { DECISION_SK, objPk, SYNC_SK_PREFIX } from './keys';
import { parseSyncItem } from './sync-state-store';

/** What the seen record (lib/adapters/dynamodb/seen-store.ts) holds of the change it started. */
const ReceivedSchema = z.object({ traceId: z.string(), receivedAt: z.string(), reason: z.string().optional() });
/** What a decision item holds of the change it was made for (lib/placement/reconcile.ts). */
const PlacedSchema = z.object({ traceId: z.string(), decidedAt: z.string() });
/** What a decision item holds of when that change was received (decisions written before it hold none). */
const DecisionReceivedSchema = z.object({
  traceId: z.string(),
  receivedAt: z.string(),
  receivedReason: z.string().optional(),
});

type Received = z.infer<typeof ReceivedSchema>;

/**
 * `tmc trace`'s read side: the path of an object's last change, derived from the items its work writes anyway, so a
 * change costs no trace write (docs/observability.md). The change is the newest of the one the object's decision was
 * made for (`DECISION`: `traceId`, `receivedAt`, `receivedReason`) and, from items written before decisions recorded
 * it, the one ingress last enqueued (`SEEN#<obj>`); `placed` is the decision made for it (`decidedAt`, the sync work
 * `sent`, if any), and `decided` that item's stamp whichever change wrote it; `applied:<cluster>` each sync item this change applied or deleted (`SYNC#<cluster>` carries the trace id
 * of the message that wrote it); `status:<cluster>` each cluster's status stored since the change began
 * (`STATUS#<cluster>`, on the status message's own trace id). Two requests: a GetItem and one Query of the object's
 * partition.
 */
export class DynamoTraceStore implements ObjectTraceReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(ref: ObjectRef): Promise<ObjectTrace | undefined> {
    const [seen, items] = await Promise.all([
      this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [TABLE.partitionKey]: `SEEN#${objectKey(ref)}`, [TABLE.sortKey]: 'SEEN' },
          ConsistentRead: true,
        }),
      ),
      this.partition(ref),
    ]);
    const received = newest(
      ReceivedSchema.safeParse(seen.Item ?? {}).data,
      receivedOf(items.find((item) => item[TABLE.sortKey] === DECISION_SK)),
    );
    if (!received) return undefined;
    const { traceId, receivedAt } = received;
    const steps: Record<string, TraceStep> = {
      received: { at: receivedAt, traceId, ...(received.reason ? { detail: received.reason } : {}) },
    };
    let decided: TraceStep | undefined;
    for (const item of items) {
      const sk = item[TABLE.sortKey];
      if (typeof sk !== 'string') continue;
      if (sk === DECISION_SK) decided = decisionStamp(item);
      const step =
        sk === DECISION_SK
          ? placedStep(decided, traceId)
          : sk.startsWith(SYNC_SK_PREFIX)
            ? appliedStep(item, traceId)
            : sk.startsWith(STATUS_SK_PREFIX)
              ? statusStep(item, receivedAt)
              : undefined;
      if (step) steps[step.name] = step.step;
    }
    return { traceId, startedAt: receivedAt, steps, ...(decided ? { decided } : {}) };
  }

  /** DECISION, every STATUS# and every SYNC# item of the object: the sort-key range DynamoObjectSnapshotReader reads. */
  private async partition(ref: ObjectRef): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    for await (const out of queryPages(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :first AND :last',
      ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
      ExpressionAttributeValues: { ':pk': objPk(ref), ':first': DECISION_SK, ':last': 'SYNC$' },
      ConsistentRead: true,
    })) {
      items.push(...(out.Items ?? []));
    }
    return items;
  }
}

type NamedStep = { name: string; step: TraceStep } | undefined;

/** The change a decision item says it was made for, when it says so. */
function receivedOf(item: Record<string, unknown> | undefined): Received | undefined {
  const parsed = DecisionReceivedSchema.safeParse(item ?? {});
  if (!parsed.success) return undefined;
  const { traceId, receivedAt, receivedReason } = parsed.data;
  return { traceId, receivedAt, ...(receivedReason ? { reason: receivedReason } : {}) };
}

/** The later of two received changes (a seen record of an older release, a decision's): the object's last change. */
function newest(a: Received | undefined, b: Received | undefined): Received | undefined {
  if (!a || !b) return a ?? b;
  return Date.parse(b.receivedAt) >= Date.parse(a.receivedAt) ? b : a;
}

/** Who wrote the decision item last, when, and the sync work it sent; undefined for an item without the stamp. */
function decisionStamp(item: Record<string, unknown>): TraceStep | undefined {
  const placed = PlacedSchema.safeParse(item);
  if (!placed.success) return undefined;
  const { traceId, decidedAt } = placed.data;
  const sent = storedSent(item);
  return { at: decidedAt, traceId, ...(sent ? { detail: sent } : {}) };
}

/** The decision made for this change, whether or not it sent sync work (placed nowhere, or nothing changed there). */
function placedStep(decided: TraceStep | undefined, traceId: string): NamedStep {
  if (decided?.traceId !== traceId) return undefined;
  return { name: 'placed', step: decided };
}

/** A cluster's copy applied or deleted by this change's message. */
function appliedStep(item: Record<string, unknown>, traceId: string): NamedStep {
  const record = parseSyncItem(item);
  if (record.traceId !== traceId) return undefined;
  if (record.state === 'applied' && record.appliedAt)
    return {
      name: `applied:${record.cluster}`,
      step: { at: record.appliedAt, traceId, cluster: record.cluster, result: 'applied' },
    };
  if (record.state === 'deleted')
    return {
      name: `applied:${record.cluster}`,
      step: { at: record.updatedAt, traceId, cluster: record.cluster, result: 'deleted' },
    };
  return undefined;
}

/** A cluster's status stored (and so brought to kcp) since the change began, on the status report's own trace id. */
function statusStep(item: Record<string, unknown>, since: string): NamedStep {
  const record = parseStatusItem(item);
  if (!record || Date.parse(record.observedAt) < Date.parse(since)) return undefined;
  return {
    name: `status:${record.cluster}`,
    step: { at: record.observedAt, traceId: record.traceId ?? '', cluster: record.cluster, result: 'written' },
  };
}
