import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ConflictError } from '../../errors/tmc-error';
import type { StatusCredentialStore } from '../../ports/status-credential-store';
import { TABLE } from '../../runtime/resources';
import { isConditionalCheckFailed } from './table';

const ItemSchema = z.object({ digests: z.array(z.string()), version: z.number().int() });

/** How many digests a cluster keeps: the newest and the one before it (the rotation's grace). */
const KEPT = 2;
/** Rounds of read-then-conditional-put when two installs rotate the same cluster at once. */
const ROUNDS = 5;

/**
 * `STATUSCRED#<cluster>` / `STATUSCRED` items (docs/state.md): SHA-256 digests only, never a credential. The same
 * store keeps syncers' virtual-workspace credentials under `kind` `SYNCERCRED` (subject `<workspace>|<SyncTarget>`).
 */
export class DynamoStatusCredentialStore implements StatusCredentialStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly kind: 'STATUSCRED' | 'SYNCERCRED' = 'STATUSCRED',
  ) {}

  private key(cluster: string): Record<string, string> {
    return { [TABLE.partitionKey]: `${this.kind}#${cluster}`, [TABLE.sortKey]: this.kind };
  }

  private async read(cluster: string): Promise<z.infer<typeof ItemSchema> | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(cluster), ConsistentRead: true }));
    return Item === undefined ? undefined : ItemSchema.parse(Item);
  }

  async digests(cluster: string): Promise<string[]> {
    return (await this.read(cluster))?.digests ?? [];
  }

  async add(cluster: string, digest: string): Promise<void> {
    for (let round = 0; round < ROUNDS; round++) {
      const current = await this.read(cluster);
      const version = current?.version ?? 0;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...this.key(cluster), digests: [digest, ...(current?.digests ?? []).filter((d) => d !== digest)].slice(0, KEPT), version: version + 1 },
            ConditionExpression: current === undefined ? 'attribute_not_exists(#pk)' : '#v = :v',
            ExpressionAttributeNames: current === undefined ? { '#pk': TABLE.partitionKey } : { '#v': 'version' },
            ...(current === undefined ? {} : { ExpressionAttributeValues: { ':v': version } }),
          }),
        );
        return;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
    }
    throw new ConflictError(`The status credential of cluster ${cluster} changed under ${ROUNDS} attempts to add one; retry`);
  }

  async revoke(cluster: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(cluster) }));
  }
}
