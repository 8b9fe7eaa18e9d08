import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';

/**
 * The floor run's stand-in for tmc (bench/e2e/floor.ts): the least a correct design must do per change, with the
 * same clients tmc uses, against the same emulators and simulator. Per object: one placement message (sent and
 * received in batches of ten), one decision write; per object·cluster: one sync message (batched), one server-side
 * apply on the cluster, one conditional state write; per Deployment: one status write to kcp. No reads, no traces, no
 * retries, no safety checks: a lower bound, not a design.
 */

export const FloorJob = z.object({
  objects: z.array(
    z.object({
      resource: z.enum(['deployments', 'configmaps']),
      name: z.string(),
      body: z.record(z.string(), z.unknown()),
    }),
  ),
  clusters: z.array(z.object({ name: z.string(), url: z.string() })),
  kcpUrl: z.string(),
  namespace: z.string(),
  dynamodbEndpoint: z.string(),
  sqsEndpoint: z.string(),
  tableName: z.string(),
  placementQueueUrl: z.string(),
  syncQueueUrl: z.string(),
  readyReplicas: z.number().int(),
});
export type FloorJob = z.infer<typeof FloorJob>;

const Message = z.object({ o: z.number().int(), c: z.number().int().optional() });
const BATCH = 10;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

function pathOf(resource: 'deployments' | 'configmaps', namespace: string, name: string): string {
  return resource === 'deployments'
    ? `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`
    : `/api/v1/namespaces/${namespace}/configmaps/${name}`;
}

async function kube(method: 'PATCH', url: string, contentType: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': contentType, 'user-agent': 'tmc-floor' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status}`);
}

/** Runs the floor pipeline for every object of `job` and resolves once each has its status written. */
export async function runFloorPipeline(job: FloorJob): Promise<void> {
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: job.dynamodbEndpoint, credentials });
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: job.sqsEndpoint, credentials });
  const M = job.clusters.length;
  const appliedPerObject = new Array<number>(job.objects.length).fill(0);
  let statusesLeft = job.objects.filter((o) => o.resource === 'deployments').length;
  let objectsLeft = job.objects.length;
  let syncsLeft = job.objects.length * M;

  const send = async (queueUrl: string, bodies: string[]): Promise<void> => {
    for (let i = 0; i < bodies.length; i += BATCH) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: bodies.slice(i, i + BATCH).map((b, j) => ({ Id: String(j), MessageBody: b })),
        }),
      );
    }
  };
  /** Polls `queueUrl` in batches of ten until `left()` is 0, handing each batch's messages to `handle`. */
  const consume = async (
    queueUrl: string,
    left: () => number,
    handle: (m: z.infer<typeof Message>) => Promise<void>,
  ): Promise<void> => {
    while (left() > 0) {
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: BATCH, WaitTimeSeconds: 1 }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) continue;
      await Promise.all(messages.map((m) => handle(Message.parse(JSON.parse(m.Body ?? '')))));
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
  };

  const place = async ({ o }: z.infer<typeof Message>): Promise<void> => {
    const object = job.objects[o];
    await dynamo.send(
      new PutItemCommand({
        TableName: job.tableName,
        Item: {
          pk: { S: `FLOOR#${object.resource}#${object.name}` },
          sk: { S: 'DECISION' },
          clusters: { SS: job.clusters.map((c) => c.name) },
          version: { N: '1' },
        },
        ConditionExpression: 'attribute_not_exists(pk) OR version < :v',
        ExpressionAttributeValues: { ':v': { N: '1' } },
      }),
    );
    await send(
      job.syncQueueUrl,
      job.clusters.map((_, c) => JSON.stringify({ o, c })),
    );
    objectsLeft -= 1;
  };
  const apply = async ({ o, c }: z.infer<typeof Message>): Promise<void> => {
    const object = job.objects[o];
    const cluster = job.clusters[c ?? 0];
    await kube(
      'PATCH',
      `${cluster.url}${pathOf(object.resource, job.namespace, object.name)}?fieldManager=tmc&force=true`,
      'application/apply-patch+yaml',
      object.body,
    );
    await dynamo.send(
      new PutItemCommand({
        TableName: job.tableName,
        Item: {
          pk: { S: `FLOOR#${object.resource}#${object.name}` },
          sk: { S: `SYNC#${cluster.name}` },
          generation: { N: '1' },
        },
        ConditionExpression: 'attribute_not_exists(pk) OR generation < :g',
        ExpressionAttributeValues: { ':g': { N: '1' } },
      }),
    );
    syncsLeft -= 1;
    appliedPerObject[o] += 1;
    if (appliedPerObject[o] === M && object.resource === 'deployments') {
      await kube(
        'PATCH',
        `${job.kcpUrl}${pathOf(object.resource, job.namespace, object.name)}/status`,
        'application/merge-patch+json',
        { status: { observedGeneration: 1, replicas: job.readyReplicas, readyReplicas: job.readyReplicas } },
      );
      statusesLeft -= 1;
    }
  };

  try {
    await send(
      job.placementQueueUrl,
      job.objects.map((_, o) => JSON.stringify({ o })),
    );
    await Promise.all([
      ...Array.from({ length: 2 }, () => consume(job.placementQueueUrl, () => objectsLeft, place)),
      ...Array.from({ length: 4 }, () => consume(job.syncQueueUrl, () => syncsLeft, apply)),
    ]);
    if (statusesLeft !== 0) throw new Error(`The floor pipeline ended with ${statusesLeft} statuses unwritten`);
  } finally {
    dynamo.destroy();
    sqs.destroy();
  }
}
