import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { SqsVisibilityDeferrer } from '../../../lib/adapters/sqs/sqs-visibility-deferrer';
import { startLocalSqs, type LocalSqs } from '../../../lib/local/aws-services';
import { makeSqsClient } from '../../../lib/runtime/aws';
import { processSqsBatch } from '../../../lib/sync/sqs-batch';
import { memoryLog } from '../../../lib/observability/log';

/** A batch's deferrals reach SQS in one ChangeMessageVisibilityBatch per ten, and each deferred message is hidden. */
describe('SqsVisibilityDeferrer against fauxqs', () => {
  let local: LocalSqs;
  let sqs: SQSClient;
  const commands: string[] = [];

  beforeAll(async () => {
    local = await startLocalSqs();
    sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: local.endpoint });
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
  });
  afterAll(async () => {
    sqs.destroy();
    await local.stop();
  });

  it('changes the visibility of a batch of twelve failed messages in two requests, each reported failed', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'deferrals' }));
    const queueUrl = QueueUrl ?? '';
    for (let i = 0; i < 12; i += 6) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: 6 }, (_, j) => ({ Id: String(j), MessageBody: JSON.stringify({ n: i + j }) })),
        }),
      );
    }
    const records: SQSRecord[] = [];
    while (records.length < 12) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
      );
      for (const m of Messages)
        if (!records.some((r) => r.messageId === m.MessageId))
          records.push({
            messageId: m.MessageId ?? '',
            receiptHandle: m.ReceiptHandle ?? '',
            body: m.Body ?? '',
          } as SQSRecord);
    }
    const errors: unknown[] = [];
    const deferrer = new SqsVisibilityDeferrer(sqs, queueUrl, (err) => errors.push(err));
    commands.length = 0;
    const event: SQSEvent = { Records: records };
    const response = await processSqsBatch(
      event,
      z.object({ n: z.number() }),
      async () => ({ done: false, delaySeconds: 0 }),
      { deferrer, log: memoryLog() },
    );
    expect(response.batchItemFailures).toHaveLength(12);
    expect(commands).toEqual(['ChangeMessageVisibilityBatchCommand', 'ChangeMessageVisibilityBatchCommand']);
    expect(errors).toEqual([]);
    // Received for 600 s, deferred by 0 s: every one is visible again at once.
    const again = new Set<string>();
    for (let i = 0; i < 5 && again.size < 12; i++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
      );
      for (const m of Messages) again.add(m.MessageId ?? '');
    }
    expect(again.size).toBe(12);
  });
});
