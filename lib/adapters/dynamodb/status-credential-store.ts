import { systemClock, type Clock } from '../../ports/clock';
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ConflictError } from '../../errors/tmc-error';
import type { StatusCredentialStore } from '../../ports/status-credential-store';
import { TABLE } from '../../runtime/resources';
import { assertReadableSchema } from './schema-version';
import { isConditionalCheckFailed } from './table';

/** v1 items (before schema versions) have no retireAt: the digest before the newest stays accepted until the next add. */
const ItemSchema = z.looseObject({
  digests: z.array(z.string()),
  version: z.number().int(),
  retireAt: z.iso.datetime().optional(),
});

/** How many digests a cluster keeps: the newest and the one before it (the rotation's grace). */
const KEPT = 2;
/** How long the credential before the newest stays accepted after a rotation, by default. */
export const STATUS_CREDENTIAL_GRACE_MS = 60 * 60_000;
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
    private readonly options: { graceMs?: number; now?: Clock; kind?: 'STATUSCRED' | 'SYNCERCRED' } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? systemClock)();
  }

  private get kind(): 'STATUSCRED' | 'SYNCERCRED' {
    return this.options.kind ?? 'STATUSCRED';
  }

  private key(cluster: string): Record<string, string> {
    return { [TABLE.partitionKey]: `${this.kind}#${cluster}`, [TABLE.sortKey]: this.kind };
  }

  private async read(cluster: string): Promise<z.infer<typeof ItemSchema> | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(cluster), ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    assertReadableSchema(Item, `The status credential item of cluster ${cluster}`);
    return ItemSchema.parse(Item);
  }

  /** The newest digest, and the ones before it until their grace period (retireAt) ends. */
  private accepted(item: z.infer<typeof ItemSchema> | undefined): string[] {
    if (item === undefined) return [];
    if (item.retireAt !== undefined && this.now() >= Date.parse(item.retireAt)) return item.digests.slice(0, 1);
    return item.digests;
  }

  async digests(cluster: string): Promise<string[]> {
    return this.accepted(await this.read(cluster));
  }

  async add(cluster: string, digest: string): Promise<void> {
    for (let round = 0; round < ROUNDS; round++) {
      const current = await this.read(cluster);
      const version = current?.version ?? 0;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...this.key(cluster),
              digests: [digest, ...this.accepted(current).filter((d) => d !== digest)].slice(0, KEPT),
              version: version + 1,
              retireAt: new Date(this.now() + (this.options.graceMs ?? STATUS_CREDENTIAL_GRACE_MS)).toISOString(),
            },
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
    throw new ConflictError(
      `The status credential of cluster ${cluster} changed under ${ROUNDS} attempts to add one; retry`,
    );
  }

  async revoke(cluster: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(cluster) }));
  }
}
