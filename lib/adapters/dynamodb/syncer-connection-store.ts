import { systemClock, type Clock } from '../../ports/clock';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { SyncerConnectionStore } from '../../ports/syncer-connection-store';
import { SYNCER_FEED, TABLE } from '../../runtime/resources';
import { queryPages } from './table';

const ItemSchema = z.looseObject({
  [TABLE.sortKey]: z.string().min(1),
  [TABLE.ttlAttribute]: z.number().int(),
});

/** Connections a SyncTarget may hold at once before the Query pages; a syncer holds one (two while reconnecting). */
const PAGE = 100;

/**
 * `SYNCERCONN#<workspace>|<SyncTarget>` / `<connectionId>` items (docs/state.md): one SyncTarget's connections are
 * one partition, read with one Query. Each expires (DynamoDB TTL, `expiresAt`) after API Gateway's longest connection,
 * so one whose `$disconnect` never ran does not outlive it; dynalite never expires items, so `list` filters too.
 */
export class DynamoSyncerConnectionStore implements SyncerConnectionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: Clock = systemClock,
  ) {}

  private pk(subject: string): string {
    return `SYNCERCONN#${subject}`;
  }

  async add(subject: string, connectionId: string): Promise<void> {
    const at = this.now();
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [TABLE.partitionKey]: this.pk(subject),
          [TABLE.sortKey]: connectionId,
          connectedAt: new Date(at).toISOString(),
          [TABLE.ttlAttribute]: Math.floor(at / 1000) + SYNCER_FEED.connectionTtlSeconds,
        },
      }),
    );
  }

  async remove(subject: string, connectionId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { [TABLE.partitionKey]: this.pk(subject), [TABLE.sortKey]: connectionId },
      }),
    );
  }

  async list(subject: string): Promise<string[]> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const ids: string[] = [];
    const pages = queryPages(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': this.pk(subject) },
      ConsistentRead: true,
      Limit: PAGE,
    });
    for await (const page of pages) {
      for (const raw of page.Items ?? []) {
        const item = ItemSchema.parse(raw);
        if (item[TABLE.ttlAttribute] > nowSeconds) ids.push(item[TABLE.sortKey]);
      }
    }
    return ids;
  }
}
