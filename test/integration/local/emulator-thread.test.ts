import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { countAwsOperations } from '../../../bench/support/aws-op-counter';
import { countAwsOperationsInThreads } from '../../../bench/support/aws-op-counter-threads';
import {
  ensureQueues,
  ensureTable,
  startLocalDynamo,
  startLocalSqs,
  type LocalDynamo,
  type LocalSqs,
} from '../../../lib/local/aws-services';
import { EmulatorStartError, EmulatorThreadError } from '../../../lib/local/emulator-thread';
import { HARNESS_USER_AGENT } from '../../../lib/local/harness-user-agent';
import { makeSqsClient } from '../../../lib/runtime/aws';

/**
 * dynalite and fauxqs run in worker threads (lib/local/emulator-worker.mjs): callers see only endpoints, a persisted
 * table survives a restart, a failed start is named, stop ends the thread, and the benchmark's counter counts where
 * the servers are (the main thread's diagnostics channel no longer sees their requests).
 */

const TABLE = 'tmc-state';

function documentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
}

/** Bytes of the files directly in `dir` (LevelDB keeps no subdirectories). */
function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

describe('local AWS emulators in worker threads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tmc-emulator-thread-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a persisted table across a restart of its thread', async () => {
    const path = join(dir, 'dynamodb');
    const first = await startLocalDynamo({ path });
    const doc = documentClient(first.endpoint);
    try {
      expect(await ensureTable(doc, TABLE)).toBe('created');
      await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'OBJ#a', sk: 'SYNC#east', generation: 3 } }));
    } finally {
      doc.destroy();
      await first.stop();
    }

    const second = await startLocalDynamo({ path });
    const again = documentClient(second.endpoint);
    try {
      expect(await ensureTable(again, TABLE)).toBe('existing');
      const read = await again.send(new GetCommand({ TableName: TABLE, Key: { pk: 'OBJ#a', sk: 'SYNC#east' } }));
      expect(read.Item).toEqual({ pk: 'OBJ#a', sk: 'SYNC#east', generation: 3 });
    } finally {
      again.destroy();
      await second.stop();
    }
    // The thread is gone: nothing listens on the port any more.
    await expect(fetch(second.endpoint, { method: 'POST' })).rejects.toThrow();
  });

  it('compacts a persisted table to about its live items, though it was queried all along, and reports its heap', async () => {
    const path = join(dir, 'compacted');
    const dynamo = await startLocalDynamo({ path });
    const doc = documentClient(dynamo.endpoint);
    try {
      await ensureTable(doc, TABLE);
      // 40 items, each rewritten 150 times with 3 KB that does not compress: ≈18 MB written, ≈120 KB live.
      for (let round = 0; round < 150; round++) {
        for (const first of [0, 20]) {
          await doc.send(
            new BatchWriteCommand({
              RequestItems: {
                [TABLE]: Array.from({ length: 20 }, (_, i) => ({
                  PutRequest: {
                    Item: { pk: `OBJ#${first + i}`, sk: 'STATUS#east', round, data: randomBytes(1536).toString('hex') },
                  },
                })),
              },
            }),
          );
        }
        // A Query each round: dynalite once left every Query's LevelDB iterator open, which kept the files each one
        // started on from being deleted (and its memory from being freed) however often the table was compacted.
        const queried = await doc.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `OBJ#${round % 40}` },
          }),
        );
        expect(queried.Items).toHaveLength(1);
      }
      const before = dirBytes(path);
      expect(await dynamo.thread.compact()).toBe(true);
      const after = dirBytes(path);
      expect(before).toBeGreaterThan(4 * 1024 * 1024);
      expect(after).toBeLessThan(1024 * 1024);
      const read = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'OBJ#7', sk: 'STATUS#east' } }));
      expect(read.Item?.round).toBe(149);
      const heap = await dynamo.thread.heap({ collectGarbage: true });
      expect(heap.usedBytes).toBeGreaterThan(0);
      expect(heap.usedBytes).toBeLessThanOrEqual(heap.totalBytes);
    } finally {
      doc.destroy();
      await dynamo.stop();
    }
    // In memory there are no files to compact.
    const inMemory = await startLocalDynamo();
    try {
      expect(await inMemory.thread.compact()).toBe(false);
    } finally {
      await inMemory.stop();
    }
  });

  it('names the emulator that failed to start, with the cause', async () => {
    const running = await startLocalDynamo();
    const port = Number(new URL(running.endpoint).port);
    try {
      const dynamo = startLocalDynamo({ port });
      await expect(dynamo).rejects.toBeInstanceOf(EmulatorStartError);
      await expect(dynamo).rejects.toMatchObject({
        service: 'dynamodb',
        message: expect.stringMatching(/^The local DynamoDB \(dynalite\) did not start: .*EADDRINUSE/),
      });
      await expect(startLocalSqs({ port })).rejects.toMatchObject({
        name: 'EmulatorStartError',
        service: 'sqs',
        message: expect.stringContaining('SQS (fauxqs)'),
      });
      await expect(startLocalDynamo({ path: join(__filename, 'not-a-dir') })).rejects.toMatchObject({
        service: 'dynamodb',
        cause: expect.objectContaining({ code: 'ENOTDIR' }),
      });
    } finally {
      await running.stop();
    }
  });

  describe('the benchmark counter in the emulator threads', () => {
    let dynamo: LocalDynamo;
    let queues: LocalSqs;
    let doc: DynamoDBDocumentClient;
    let sqs: SQSClient;
    let queueUrl: string;

    beforeAll(async () => {
      [dynamo, queues] = await Promise.all([startLocalDynamo(), startLocalSqs()]);
      doc = documentClient(dynamo.endpoint);
      sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: queues.endpoint });
      await ensureTable(doc, TABLE);
      queueUrl = (await ensureQueues(sqs)).sync.url;
    });
    afterAll(async () => {
      doc.destroy();
      sqs.destroy();
      await Promise.all([dynamo.stop(), queues.stop()]);
    });

    it('counts requests by operation and item kind where the servers run, and resets per phase', async () => {
      const endpoints = { dynamodb: dynamo.endpoint, sqs: queues.endpoint };
      const inMainThread = countAwsOperations(endpoints);
      const counter = await countAwsOperationsInThreads({ dynamodb: dynamo.thread, sqs: queues.thread });
      try {
        await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'OBJ#b', sk: 'DECISION', clusters: ['east'] } }));
        await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'OBJ#b', sk: 'DECISION' } }));
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{}' }));
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
        );

        const dynamodb = await counter.snapshot('dynamodb');
        expect(dynamodb.requests).toEqual({ PutItem: 1, GetItem: 1 });
        expect(dynamodb.byItem).toEqual({ 'PutItem DECISION': 1, 'GetItem DECISION': 1 });
        expect(dynamodb.writeBytes).toBeGreaterThan(0);
        const sqsCounts = await counter.snapshot('sqs');
        expect(sqsCounts.requests).toEqual({ SendMessage: 1, GetQueueAttributes: 1 });
        // By queue, read off the bodies without disturbing fauxqs's own reading of them (the sends succeeded).
        expect(sqsCounts.byItem).toEqual({ 'SendMessage tmc-sync': 1, 'GetQueueAttributes tmc-sync': 1 });
        // The servers are off the main thread: its own diagnostics channel saw none of it.
        expect(inMainThread.snapshot('dynamodb').requests).toEqual({});
        expect(inMainThread.snapshot('sqs').requests).toEqual({});

        await counter.reset();
        await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'OBJ#b', sk: 'DECISION' } }));
        expect((await counter.snapshot('dynamodb')).requests).toEqual({ GetItem: 1 });
        expect((await counter.snapshot('sqs')).requests).toEqual({});

        // Batches: entries counted per request, and the bodies still reach fauxqs whole.
        await counter.reset();
        const bodies = ['{"Id":"not a member"}', 'say \\"Id\\": no', '{}'];
        const sent = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: bodies.map((body, i) => ({ Id: `e${i}`, MessageBody: body })),
          }),
        );
        expect(sent.Successful).toHaveLength(3);
        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        // The batch's three, and the SendMessage of the first phase.
        expect((received.Messages ?? []).map((m) => m.Body).sort()).toEqual([...bodies, '{}'].sort());
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: (received.Messages ?? []).map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
        const batches = await counter.snapshot('sqs');
        expect(batches.byItem).toEqual({
          'SendMessageBatch tmc-sync': 1,
          'ReceiveMessage tmc-sync': 1,
          'DeleteMessageBatch tmc-sync': 1,
        });
        expect(batches.entries).toEqual({ 'SendMessageBatch tmc-sync': 3, 'DeleteMessageBatch tmc-sync': 4 });
      } finally {
        inMainThread.close();
        await counter.close();
      }
    });

    it("counts the local stack's own depth reads apart from the functions'", async () => {
      const harness = new SQSClient({
        region: 'us-east-1',
        endpoint: queues.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        customUserAgent: HARNESS_USER_AGENT,
      });
      const counter = await countAwsOperationsInThreads({ dynamodb: dynamo.thread, sqs: queues.thread });
      try {
        const read = new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        });
        await sqs.send(read);
        await harness.send(read);
        await harness.send(read);
        const counts = await counter.snapshot('sqs');
        expect(counts.requests).toEqual({ GetQueueAttributes: 1 });
        expect(counts.byItem).toEqual({ 'GetQueueAttributes tmc-sync': 1 });
        expect(counts.harness).toEqual({ GetQueueAttributes: 2 });
      } finally {
        harness.destroy();
        await counter.close();
      }
    });

    it('reports a call the thread cannot answer as an EmulatorThreadError', async () => {
      const hosted = await dynamo.thread.load(
        join(process.cwd(), 'bench', 'support', 'aws-op-counter.ts'),
        'countAwsOperations',
        [{ dynamodb: dynamo.endpoint, sqs: queues.endpoint }],
      );
      await expect(hosted.call('noSuchMethod')).rejects.toBeInstanceOf(EmulatorThreadError);
      await expect(
        dynamo.thread.load(join(process.cwd(), 'bench', 'support', 'aws-op-counter.ts'), 'noSuchExport'),
      ).rejects.toThrow(/exports no function noSuchExport/);
      await hosted.call('close');
    });
  });
});
