import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { PlacementMessageSchema, type PlacementMessage } from '../../api/messages';
import { objectKey } from '../../api/object-ref';
import type { AdmissionOutbox } from '../../ports/admission-outbox';
import { systemClock, type Clock } from '../../ports/clock';
import { TABLE } from '../../runtime/resources';

/** The gsi1 partition of every held admission: one small partition, read by the sweep in time order. */
const OUTBOX_GSI = 'ADMISSIONS#HELD';
/** A held admission no sweep sent within a day is left to the lost-admission pass. */
const RETENTION_SECONDS = 24 * 3600;

const HeldItem = z.object({ message: z.string(), [TABLE.ttlAttribute]: z.number().optional() });

/**
 * `HELD#<obj>` / `<traceId>` items (docs/state.md), indexed on gsi1 `ADMISSIONS#HELD` by the message's enqueue time.
 * The message is stored without its carried object (placement reads kcp anyway): no object content in the table.
 */
export class DynamoAdmissionOutbox implements AdmissionOutbox {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: Clock = systemClock,
  ) {}

  private key(message: PlacementMessage): Record<string, string> {
    return {
      [TABLE.partitionKey]: `HELD#${objectKey(message.ref)}`,
      [TABLE.sortKey]: message.trace.traceId,
    };
  }

  async hold(message: PlacementMessage): Promise<void> {
    const { object: _object, ...bare } = message;
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(message),
          gsi1pk: OUTBOX_GSI,
          gsi1sk: `${message.trace.enqueuedAt}|${objectKey(message.ref)}|${message.trace.traceId}`,
          message: JSON.stringify(bare),
          [TABLE.ttlAttribute]: Math.floor(this.now() / 1000) + RETENTION_SECONDS,
        },
      }),
    );
  }

  async release(message: PlacementMessage): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(message) }));
  }

  async due(before: number, limit: number): Promise<PlacementMessage[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: TABLE.indexes[0].name,
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :before',
        ExpressionAttributeValues: { ':pk': OUTBOX_GSI, ':before': new Date(before).toISOString() },
        Limit: limit,
      }),
    );
    const nowSeconds = Math.floor(this.now() / 1000);
    return (out.Items ?? [])
      .map((item) => HeldItem.parse(item))
      .filter((item) => (item[TABLE.ttlAttribute] ?? Infinity) > nowSeconds) // dynalite never expires items
      .map((item) => PlacementMessageSchema.parse(JSON.parse(item.message)));
  }
}
