import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { PlacementMessage } from '../../../lib/api/messages';
import { SqsWorkQueue } from '../../../lib/adapters/sqs/sqs-work-queue';
import { withOwnDeadline } from '../../../lib/errors/deadline';
import { asTmcError, ValidationError } from '../../../lib/errors/tmc-error';
import { startLocalSqs, type LocalSqs } from '../../../lib/local/aws-services';
import { makeSqsClient } from '../../../lib/runtime/aws';
import { startHangingServer, type HangingServer } from '../../support/hanging-server';

function placement(i: number, padding = ''): PlacementMessage {
  return {
    type: 'placement',
    reason: 'event',
    ref: {
      workspace: 'root:default',
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      kind: 'Deployment',
      namespace: 'default',
      name: `web-${i}`,
    },
    ...(padding ? { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { padding } } } : {}),
    trace: { traceId: `trace-${i}`, enqueuedAt: '2025-01-01T00:00:00.000Z' },
  };
}

describe('SqsWorkQueue against fauxqs', () => {
  let local: LocalSqs;
  let sqs: SQSClient;
  let batchCalls: number[];
  let failNext: ((ids: string[]) => string[]) | undefined;
  let n = 0;

  beforeAll(async () => {
    local = await startLocalSqs();
    sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: local.endpoint });
    // Counts SendMessageBatch calls and, when asked, rewrites a response to report some entries failed (as SQS does
    // under throttling) while fauxqs has in fact not been told: the entries are removed from the request.
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'SendMessageBatchCommand') return next(args);
        const input = args.input as SendMessageBatchCommandInput;
        const entries = input.Entries ?? [];
        batchCalls.push(entries.length);
        const failing = failNext?.(entries.map((e) => e.Id ?? '')) ?? [];
        failNext = undefined;
        const kept = entries.filter((e) => !failing.includes(e.Id ?? ''));
        const result = await next({ ...args, input: { ...input, Entries: kept } });
        const output = result.output as SendMessageBatchCommandOutput;
        output.Failed = failing.map((Id) => ({ Id, SenderFault: false, Code: 'ServiceUnavailable' }));
        return result;
      },
      { step: 'initialize', name: 'countBatches' },
    );
  });
  beforeEach(() => {
    batchCalls = [];
  });
  afterAll(async () => {
    sqs.destroy();
    await local.stop();
  });

  async function newQueue(): Promise<string> {
    n += 1;
    return (await sqs.send(new CreateQueueCommand({ QueueName: `wq-${n}` }))).QueueUrl ?? '';
  }

  async function drain(url: string): Promise<Array<{ body: string; traceId?: string }>> {
    const out: Array<{ body: string; traceId?: string }> = [];
    for (;;) {
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: 60,
        }),
      );
      if (!got.Messages?.length) return out;
      out.push(
        ...got.Messages.map((m) => ({ body: m.Body ?? '', traceId: m.MessageAttributes?.traceId?.StringValue })),
      );
    }
  }

  it('sends 25 messages in 3 SendMessageBatch calls, with traceId attributes', async () => {
    const url = await newQueue();
    const queue = new SqsWorkQueue({ sqs, queueUrl: url, name: 'placement' });
    await queue.send(Array.from({ length: 25 }, (_, i) => placement(i)));
    expect(batchCalls.sort((a, b) => a - b)).toEqual([5, 10, 10]);
    const received = await drain(url);
    expect(received).toHaveLength(25);
    const first = received.find((m) => JSON.parse(m.body).ref.name === 'web-0');
    expect(first?.traceId).toBe('trace-0');
  });

  it('splits batches by size as well as by count', async () => {
    const url = await newQueue();
    const queue = new SqsWorkQueue({ sqs, queueUrl: url, name: 'placement' });
    // Three messages of ~100 KiB: two fit in 256 KiB, the third needs its own call.
    await queue.send([0, 1, 2].map((i) => placement(i, 'x'.repeat(100 * 1024))));
    expect(batchCalls.sort()).toEqual([1, 2]);
    expect(await drain(url)).toHaveLength(3);
  });

  it('retries only the entries SQS reports failed', async () => {
    const url = await newQueue();
    const queue = new SqsWorkQueue({ sqs, queueUrl: url, name: 'placement', backoffMs: 1 });
    failNext = (ids) => ids.slice(0, 3);
    await queue.send(Array.from({ length: 10 }, (_, i) => placement(i)));
    expect(batchCalls).toEqual([10, 3]);
    const names = (await drain(url)).map((m) => JSON.parse(m.body).ref.name).sort();
    expect(names).toEqual(Array.from({ length: 10 }, (_, i) => `web-${i}`).sort());
  });

  it('rejects an invalid message before sending anything', async () => {
    const url = await newQueue();
    const queue = new SqsWorkQueue({ sqs, queueUrl: url, name: 'placement' });
    const bad = { ...placement(1), trace: { traceId: '', enqueuedAt: 'yesterday' } };
    await expect(queue.send([placement(0), bad])).rejects.toBeInstanceOf(ValidationError);
    expect(batchCalls).toEqual([]);
  });
});

// A send cut off by its deadline says so, and what it was sending, rather than passing for a network fault.
describe('SqsWorkQueue against an SQS that hangs', () => {
  let hanging: HangingServer;
  let sqs: SQSClient;
  beforeAll(async () => {
    hanging = await startHangingServer();
    sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: hanging.url });
  });
  afterAll(async () => {
    sqs.destroy();
    await hanging.stop();
  });

  it('fails a send cut off at the deadline with DeadlineExceededError naming the queue and the messages', async () => {
    const queue = new SqsWorkQueue({ sqs, queueUrl: `${hanging.url}/000000000000/tmc-placement`, name: 'placement' });
    const error = await withOwnDeadline(1_000, () => queue.send([0, 1, 2, 3].map((i) => placement(i)))).then(
      () => 'sent',
      (err: unknown) => err,
    );

    expect(error).toMatchObject({ name: 'DeadlineExceededError', category: 'invocation-deadline', retryable: true });
    expect(asTmcError(error)).toBe(error);
    expect((error as Error).message).toBe(
      'Sending 4 message(s) to queue placement (placement Deployment default/web-0, placement Deployment ' +
        "default/web-1, placement Deployment default/web-2 and 1 more) was cut off at the invocation's deadline",
    );
    // Sent once: the SDK does not retry a cut-off.
    expect(hanging.requests()).toBe(1);
  });
});
