import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { startLocalSqs, type LocalSqs } from '../../../lib/local/aws-services';
import { startEventSource, type EventSourceMapping } from '../../../lib/local/event-source';
import { createStackLogger } from '../../../lib/local/log';
import { makeSqsClient } from '../../../lib/runtime/aws';

const logger = createStackLogger({ level: 'silent' });

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SQS event source emulation against fauxqs', () => {
  let local: LocalSqs;
  let sqs: SQSClient;
  let mapping: EventSourceMapping | undefined;
  let counter = 0;

  beforeAll(async () => {
    local = await startLocalSqs();
    sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: local.endpoint });
  });
  afterEach(async () => {
    await mapping?.stop();
    mapping = undefined;
  });
  afterAll(async () => {
    sqs.destroy();
    await local.stop();
  });

  async function queueWithDlq(
    maxReceiveCount: number,
    visibilityTimeoutSeconds = 1,
  ): Promise<{ url: string; arn: string; dlqUrl: string }> {
    counter += 1;
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `t${counter}-dlq` }));
    const dlqArn =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] })))
        .Attributes?.QueueArn ?? '';
    const main = await sqs.send(
      new CreateQueueCommand({
        QueueName: `t${counter}`,
        Attributes: {
          VisibilityTimeout: String(visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
        },
      }),
    );
    const arn =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: main.QueueUrl, AttributeNames: ['QueueArn'] })))
        .Attributes?.QueueArn ?? '';
    return { url: main.QueueUrl ?? '', arn, dlqUrl: dlq.QueueUrl ?? '' };
  }

  async function send(url: string, bodies: string[]): Promise<void> {
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: bodies.slice(i, i + 10).map((body, j) => ({
            Id: String(j),
            MessageBody: body,
            MessageAttributes: { traceId: { DataType: 'String', StringValue: `trace-${body}` } },
          })),
        }),
      );
    }
  }

  async function visibleAndInFlight(url: string): Promise<number> {
    const a = (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
    ).Attributes;
    return Number(a?.ApproximateNumberOfMessages ?? 0) + Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }

  function start(
    queue: { url: string; arn: string },
    invoke: (event: SQSEvent) => Promise<unknown>,
    overrides: { batchSize?: number; maxConcurrency?: number; client?: SQSClient; batchingWindowSeconds?: number } = {},
  ): void {
    mapping = startEventSource({
      sqs: overrides.client ?? sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      region: 'us-east-1',
      name: 'test',
      batchSize: overrides.batchSize ?? 10,
      maximumBatchingWindowSeconds: overrides.batchingWindowSeconds ?? 0,
      maxConcurrency: overrides.maxConcurrency ?? 5,
      invoke,
      logger,
      waitTimeSeconds: 1,
    });
  }

  it('hands over a real SQSEvent and redelivers only the messages reported failed', async () => {
    const queue = await queueWithDlq(5);
    const deliveries: Array<{ body: string; receiveCount: string }> = [];
    let firstEvent: SQSEvent | undefined;
    start(queue, async (event): Promise<SQSBatchResponse> => {
      firstEvent ??= event;
      const failures = [];
      for (const record of event.Records) {
        deliveries.push({ body: record.body, receiveCount: record.attributes.ApproximateReceiveCount });
        if (record.body === 'b' && record.attributes.ApproximateReceiveCount === '1')
          failures.push({ itemIdentifier: record.messageId });
      }
      return { batchItemFailures: failures };
    });
    await send(queue.url, ['a', 'b', 'c']);

    await waitFor(
      'b to be redelivered and the queue to drain',
      async () => deliveries.length >= 4 && (await visibleAndInFlight(queue.url)) === 0,
    );
    expect(deliveries.filter((d) => d.body === 'a')).toHaveLength(1);
    expect(deliveries.filter((d) => d.body === 'c')).toHaveLength(1);
    expect(deliveries.filter((d) => d.body === 'b').map((d) => d.receiveCount)).toEqual(['1', '2']);

    const record = firstEvent?.Records[0];
    expect(record).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: queue.arn, awsRegion: 'us-east-1' });
    expect(record?.messageId).toEqual(expect.any(String));
    expect(record?.receiptHandle).toEqual(expect.any(String));
    expect(record?.attributes.SentTimestamp).toMatch(/^\d+$/);
    expect(record?.messageAttributes.traceId).toMatchObject({
      dataType: 'String',
      stringValue: `trace-${record?.body ?? ''}`,
    });
  });

  it('takes what waits in the queue ten at a time and deletes each batch in one request, as Lambda does', async () => {
    const queue = await queueWithDlq(5);
    await send(
      queue.url,
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    // The mapping's own client, counting what it asks SQS: receives that brought messages, and deletes.
    const polling = makeSqsClient({ region: 'us-east-1', sqsEndpoint: local.endpoint });
    const calls = { receivesWithMessages: 0, emptyReceives: 0, deletes: 0, deleted: 0 };
    polling.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const output: unknown = result.output;
        if (context.commandName === 'ReceiveMessageCommand') {
          const messages = z.object({ Messages: z.array(z.unknown()).optional() }).parse(output).Messages ?? [];
          if (messages.length > 0) calls.receivesWithMessages += 1;
          else calls.emptyReceives += 1;
        }
        if (context.commandName === 'DeleteMessageBatchCommand') {
          calls.deletes += 1;
          calls.deleted += z.object({ Successful: z.array(z.unknown()) }).parse(output).Successful.length;
        }
        return result;
      },
      { step: 'initialize', name: 'countPolling' },
    );
    const batches: number[] = [];
    try {
      start(
        queue,
        async (event) => {
          batches.push(event.Records.length);
        },
        { maxConcurrency: 1, client: polling },
      );
      await waitFor('every message handled and deleted', () => calls.deleted === 25);
      await mapping?.stop();
      mapping = undefined;
    } finally {
      polling.destroy();
    }
    expect(batches).toEqual([10, 10, 5]);
    expect(calls).toMatchObject({ receivesWithMessages: 3, deletes: 3, deleted: 25 });
  });

  it('moves a message that fails maxReceiveCount times to the DLQ', async () => {
    const queue = await queueWithDlq(2);
    const receiveCounts: string[] = [];
    start(queue, async (event): Promise<SQSBatchResponse> => {
      receiveCounts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await send(queue.url, ['poison']);

    let dlqBodies: string[] = [];
    await waitFor('the message to reach the DLQ', async () => {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      dlqBodies = (got.Messages ?? []).map((m) => m.Body ?? '');
      return dlqBodies.length > 0;
    });
    expect(dlqBodies).toEqual(['poison']);
    expect(receiveCounts).toEqual(['1', '2']);
    expect(await visibleAndInFlight(queue.url)).toBe(0);
  });

  it('fails the whole batch when the handler throws', async () => {
    const queue = await queueWithDlq(5);
    const bodies: string[] = [];
    let calls = 0;
    start(queue, async (event) => {
      calls += 1;
      bodies.push(...event.Records.map((r) => r.body));
      if (calls === 1) throw new Error('boom');
      return undefined;
    });
    await send(queue.url, ['x', 'y']);
    await waitFor(
      'both messages to be handled twice',
      async () => bodies.length >= 4 && (await visibleAndInFlight(queue.url)) === 0,
    );
    expect(bodies.filter((b) => b === 'x')).toHaveLength(2);
    expect(bodies.filter((b) => b === 'y')).toHaveLength(2);
  });

  it('fails the whole batch when a reported itemIdentifier names no message of the batch', async () => {
    const queue = await queueWithDlq(5);
    let calls = 0;
    start(queue, async () => {
      calls += 1;
      return calls === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] } : undefined;
    });
    await send(queue.url, ['m']);
    await waitFor(
      'the message to be handled again',
      async () => calls >= 2 && (await visibleAndInFlight(queue.url)) === 0,
    );
    expect(calls).toBe(2);
  });

  it('runs at most maxConcurrency batches at once', async () => {
    const queue = await queueWithDlq(5, 30);
    let running = 0;
    let peak = 0;
    let handled = 0;
    const releases: Array<() => void> = [];
    start(
      queue,
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        handled += 1;
      },
      { batchSize: 1, maxConcurrency: 2 },
    );
    await send(queue.url, ['1', '2', '3', '4', '5', '6']);
    await waitFor('two batches to run', () => running === 2);
    // While two run, the poller must not start a third even though messages are waiting.
    const visible = Number(
      (
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
        )
      ).Attributes?.ApproximateNumberOfMessages,
    );
    expect(visible).toBeGreaterThanOrEqual(3);
    expect(running).toBe(2);
    while (handled < 6) {
      await waitFor('a batch to be waiting', () => releases.length > 0);
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor('the queue to drain', async () => (await visibleAndInFlight(queue.url)) === 0);
    expect(peak).toBe(2);
  });

  it('hands over what a batching window received when a later receive of the window fails', async () => {
    // Visibility 60 s: a dropped message would not come back within this test.
    const queue = await queueWithDlq(5, 60);
    const polling = makeSqsClient({ region: 'us-east-1', sqsEndpoint: local.endpoint });
    let receives = 0;
    polling.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand' && ++receives === 2)
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return next(args);
      },
      { step: 'initialize', name: 'failSecondReceive' },
    );
    const handled: string[] = [];
    await send(queue.url, ['x']);
    start(
      queue,
      async (event) => {
        handled.push(...event.Records.map((r) => r.body));
      },
      { client: polling, batchingWindowSeconds: 2 },
    );
    await waitFor(
      'the received message to be handled and deleted',
      async () => (await visibleAndInFlight(queue.url)) === 0,
    );
    expect(handled).toEqual(['x']);
    expect(receives).toBeGreaterThanOrEqual(2);
    await mapping?.stop();
    mapping = undefined;
    polling.destroy();
  });
});
