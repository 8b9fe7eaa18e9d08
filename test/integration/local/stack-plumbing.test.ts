import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { SqsWorkQueue } from '../../../lib/adapters/sqs/sqs-work-queue';
import { createStackLogger } from '../../../lib/local/log';
import { startLocalStack, type LocalStack } from '../../../lib/local/stack';
import { ENV, TABLE } from '../../../lib/runtime/resources';

// The stack's AWS side and function plumbing, with kcp bootstrap off (a kubeconfig file stands in for a real kcp).
describe('startLocalStack plumbing', () => {
  let dir: string;
  let stack: LocalStack;
  const handled: string[] = [];
  let failFirst = true;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tmc-stack-'));
    const kubeconfig = join(dir, 'external.kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: []\n');
    stack = await startLocalStack({
      stateDir: join(dir, 'state'),
      port: 0,
      kcpKubeconfig: kubeconfig,
      bootstrap: false,
      schedules: false,
      pollWaitSeconds: 1,
      queues: { placement: { visibilityTimeoutSeconds: 1 } },
      logger: createStackLogger({ level: 'silent' }),
      handlers: {
        placement: async (event) => {
          const records = (event as SQSEvent).Records;
          handled.push(...records.map((r) => JSON.parse(r.body).ref.name as string));
          if (failFirst) {
            failFirst = false;
            return { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
          }
          return { batchItemFailures: [] };
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the table with gsi1 and every queue with its DLQ and redrive policy', async () => {
    const dynamo = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: stack.endpoints.dynamodb,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const table = await dynamo.send(new DescribeTableCommand({ TableName: stack.tableName }));
    dynamo.destroy();
    expect(table.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([TABLE.indexes[0].name]);
    for (const queue of Object.values(stack.queues)) {
      const attrs =
        (await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['All'] })))
          .Attributes ?? {};
      expect(JSON.parse(attrs.RedrivePolicy ?? '{}')).toEqual({
        deadLetterTargetArn: queue.dlqArn,
        maxReceiveCount: queue.definition.maxReceiveCount,
      });
    }
  });

  it('sets the functions environment from resources.ts and persists one webhook token', () => {
    expect(process.env[ENV.tableName]).toBe(stack.tableName);
    expect(process.env[ENV.queueUrl('sync')]).toBe(stack.queues.sync.url);
    expect(process.env[ENV.dlqUrl('status')]).toBe(stack.queues.status.dlqUrl);
    expect(process.env[ENV.webhookTokens]).toBe(stack.webhookToken);
    expect(readFileSync(stack.paths.webhookToken, 'utf8').trim()).toBe(stack.webhookToken);
    expect(stack.webhookToken.length).toBeGreaterThanOrEqual(40);
  });

  it('delivers queued messages to the consumer, redelivers a failed batch, and reports idle when drained', async () => {
    const queue = new SqsWorkQueue({ sqs: stack.sqs, queueUrl: stack.queues.placement.url, name: 'placement' });
    await queue.send([
      {
        type: 'placement',
        reason: 'event',
        ref: {
          workspace: 'root:default',
          group: 'apps',
          version: 'v1',
          resource: 'deployments',
          kind: 'Deployment',
          namespace: 'default',
          name: 'web',
        },
        trace: { traceId: 't', enqueuedAt: new Date().toISOString() },
      },
    ]);
    await stack.idle({ timeoutMs: 15_000 });
    expect(handled).toEqual(['web', 'web']);
  });
});
