import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { QUEUES, TABLE, type QueueDefinition, type QueueName } from '../runtime/resources';

export interface LocalDynamo {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * dynalite in this process. With `path` its LevelDB files persist state across restarts; without, it is in memory.
 * createTableMs 0: tables are ACTIVE at once, so start-up does not wait half a second per table.
 */
export async function startLocalDynamo(options: { path?: string; port?: number } = {}): Promise<LocalDynamo> {
  if (options.path !== undefined) mkdirSync(options.path, { recursive: true });
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: (): Promise<void> =>
      new Promise((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * Creates the state table as TABLE defines it, unless it exists (a persisted `.tmc/`). TTL is not enabled locally:
 * dynalite has no UpdateTimeToLive, and readers filter `expiresAt > now` anyway (docs/state.md).
 */
export async function ensureTable(dynamo: DynamoDBClient, tableName: string): Promise<'created' | 'existing'> {
  const index = TABLE.indexes[0];
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE.sortKey, AttributeType: 'S' },
          { AttributeName: index.partitionKey, AttributeType: 'S' },
          { AttributeName: index.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE.indexes.map((gsi) => ({
          IndexName: gsi.name,
          KeySchema: [
            { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
            { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
  } catch (err) {
    if (err instanceof ResourceInUseException || (err instanceof Error && err.name === 'ResourceInUseException')) return 'existing';
    throw err;
  }
  // createTableMs is 0, but wait for ACTIVE anyway so a slower DynamoDB (DynamoDB Local) works too.
  for (let i = 0; i < 100; i += 1) {
    const described = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    if (described.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return 'created';
}

export interface LocalQueue {
  definition: QueueDefinition;
  url: string;
  arn: string;
  dlqUrl: string;
  dlqArn: string;
}

export type LocalQueues = Record<QueueName, LocalQueue>;

export function localQueueName(name: QueueName): string {
  return `tmc-${name}`;
}

export function localDlqName(name: QueueName): string {
  return `tmc-${name}-dlq`;
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl;
  if (url === undefined) throw new Error(`CreateQueue returned no URL for ${name}`);
  const described = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = described.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`Queue ${name} has no ARN`);
  return { url, arn };
}

/** Every queue of QUEUES with its DLQ and redrive policy, the way the CDK stack declares them. */
export async function ensureQueues(sqs: SQSClient, definitions: Record<QueueName, QueueDefinition> = QUEUES): Promise<LocalQueues> {
  const entries = await Promise.all(
    (Object.keys(definitions) as QueueName[]).map(async (name): Promise<[QueueName, LocalQueue]> => {
      const definition = definitions[name];
      const dlq = await createQueue(sqs, localDlqName(name), { MessageRetentionPeriod: String(definition.dlqRetentionSeconds) });
      const main = await createQueue(sqs, localQueueName(name), {
        VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(definition.retentionSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: definition.maxReceiveCount }),
      });
      return [name, { definition, url: main.url, arn: main.arn, dlqUrl: dlq.url, dlqArn: dlq.arn }];
    }),
  );
  return Object.fromEntries(entries) as LocalQueues;
}

export interface LocalSqs {
  endpoint: string;
  server: FauxqsServer;
  stop(): Promise<void>;
}

/** fauxqs in this process. It keeps messages in memory only: a restart loses queued work, which the sweeps redo. */
export async function startLocalSqs(options: { port?: number } = {}): Promise<LocalSqs> {
  // `host` only names queue URLs (`sqs.<region>.<host>`); it does not change the bind address. With an IP the URL
  // is not a valid WHATWG URL (a host ending in a numeric label must be IPv4), and loadConfig rejects it.
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, host: 'localhost' });
  return { endpoint: `http://127.0.0.1:${server.port}`, server, stop: () => server.stop() };
}

