import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QUEUES, TABLE, type QueueDefinition, type QueueName } from '../runtime/resources';
import { startEmulatorThread, type EmulatorThread, type EmulatorThreadOptions } from './emulator-thread';

/** Where the emulators run: their own worker threads (lib/local/emulator-worker.mjs), off the stack's main thread. */
export type LocalEmulatorOptions = Pick<
  EmulatorThreadOptions,
  'port' | 'projectRoot' | 'onCrash' | 'youngGenerationMb'
>;

export interface LocalDynamo {
  endpoint: string;
  /** dynalite's thread: the benchmark loads its request counter there. */
  thread: EmulatorThread;
  stop(): Promise<void>;
}

/**
 * dynalite in a worker thread of this process. With `path` its LevelDB files persist state across restarts;
 * without, it is in memory. Tables are ACTIVE as soon as they are created (no half-second wait per table).
 */
export async function startLocalDynamo(
  options: LocalEmulatorOptions & Pick<EmulatorThreadOptions, 'path' | 'expressionCache' | 'requestShortcuts'> = {},
): Promise<LocalDynamo> {
  const thread = await startEmulatorThread('dynamodb', options);
  return { endpoint: thread.endpoint, thread, stop: () => thread.stop() };
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
          Projection: { ProjectionType: gsi.projection },
        })),
      }),
    );
  } catch (err) {
    if (err instanceof ResourceInUseException || (err instanceof Error && err.name === 'ResourceInUseException'))
      return 'existing';
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

async function createQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl;
  if (url === undefined) throw new Error(`CreateQueue returned no URL for ${name}`);
  const described = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = described.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`Queue ${name} has no ARN`);
  return { url, arn };
}

/** Every queue of QUEUES with its DLQ and redrive policy, the way the CDK stack declares them. */
export async function ensureQueues(
  sqs: SQSClient,
  definitions: Record<QueueName, QueueDefinition> = QUEUES,
): Promise<LocalQueues> {
  const entries = await Promise.all(
    (Object.keys(definitions) as QueueName[]).map(async (name): Promise<[QueueName, LocalQueue]> => {
      const definition = definitions[name];
      const dlq = await createQueue(sqs, localDlqName(name), {
        MessageRetentionPeriod: String(definition.dlqRetentionSeconds),
      });
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
  /** fauxqs's thread: the benchmark loads its request counter there. */
  thread: EmulatorThread;
  stop(): Promise<void>;
}

/**
 * fauxqs in a worker thread of this process. It keeps messages in memory only: a restart loses queued work, which
 * the sweeps redo.
 */
export async function startLocalSqs(options: LocalEmulatorOptions = {}): Promise<LocalSqs> {
  const thread = await startEmulatorThread('sqs', options);
  return { endpoint: thread.endpoint, thread, stop: () => thread.stop() };
}
