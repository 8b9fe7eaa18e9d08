import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { makeDynamoDocumentClient, makeSqsClient } from '../../../lib/runtime/aws';

/**
 * The client configuration bench/sdk-overhead.ts chose, pinned through what the SDK does with it, not only the option
 * values. The requests never leave the process: each client's request handler is replaced by one that answers as
 * DynamoDB or SQS would.
 */

type RequestHandler = DynamoDBDocumentClient['config']['requestHandler'];

function answering(body: unknown): RequestHandler & { requests: number } {
  const handler = {
    requests: 0,
    handle: () => {
      handler.requests += 1;
      const response = {
        statusCode: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: Buffer.from(JSON.stringify(body)),
      };
      return Promise.resolve({ response });
    },
  };
  return handler as unknown as RequestHandler & { requests: number };
}

/**
 * Counts the calls of the redaction filters the SDK's logger middleware uses for what it logs: a middleware at the
 * start of the stack wraps the context's filters before the logger middleware reads them.
 */
function countLogFilterCalls(client: DynamoDBDocumentClient | SQSClient): { calls: number } {
  const counter = { calls: 0 };
  // The two stacks differ only in their commands' input and output types, which this middleware does not touch.
  const stack = client.middlewareStack as DynamoDBDocumentClient['middlewareStack'];
  stack.add(
    (next, context) => (args) => {
      const wrap = (filter: ((value: unknown) => unknown) | undefined) => (value: unknown) => {
        counter.calls += 1;
        return filter === undefined ? value : filter(value);
      };
      const ctx = context as {
        inputFilterSensitiveLog?: (value: unknown) => unknown;
        outputFilterSensitiveLog?: (value: unknown) => unknown;
      };
      ctx.inputFilterSensitiveLog = wrap(ctx.inputFilterSensitiveLog);
      ctx.outputFilterSensitiveLog = wrap(ctx.outputFilterSensitiveLog);
      return next(args);
    },
    { step: 'initialize', priority: 'high', name: 'countLogFilterCalls' },
  );
  return counter;
}

const config = { region: 'us-east-1', dynamodbEndpoint: 'http://127.0.0.1:1', sqsEndpoint: 'http://127.0.0.1:1' };

describe('makeDynamoDocumentClient', () => {
  it('makes no redacted copy of requests and answers for a logger that logs nothing', async () => {
    const doc = makeDynamoDocumentClient(config);
    const handler = answering({ Item: { pk: { S: 'OBJ#a' }, sk: { S: 'DECISION' }, generation: { N: '3' } } });
    doc.config.requestHandler = handler;
    const filters = countLogFilterCalls(doc);

    const out = await doc.send(new GetCommand({ TableName: 'tmc-state', Key: { pk: 'OBJ#a', sk: 'DECISION' } }));

    expect(out.Item).toEqual({ pk: 'OBJ#a', sk: 'DECISION', generation: 3 });
    expect(handler.requests).toBe(1);
    expect(filters.calls).toBe(0);
  });

  it("passes the SDK's warnings on to the console", () => {
    const doc = makeDynamoDocumentClient(config);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      doc.config.logger.warn('@smithy/node-http-handler:WARN - socket usage at capacity=64');
      expect(warn).toHaveBeenCalledWith('@smithy/node-http-handler:WARN - socket usage at capacity=64');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('makeSqsClient', () => {
  const batch = new SendMessageBatchCommand({
    QueueUrl: 'http://127.0.0.1:1/000000000000/tmc-placement',
    Entries: [{ Id: 'm0', MessageBody: '{"object":"a"}' }],
  });
  // An answer whose MD5 does not match the body sent: the SDK's MD5 check would reject it.
  const answer = {
    Successful: [{ Id: 'm0', MessageId: 'id-0', MD5OfMessageBody: '00000000000000000000000000000000' }],
    Failed: [],
  };

  function client(): { sqs: SQSClient; handler: ReturnType<typeof answering>; filters: { calls: number } } {
    const sqs = makeSqsClient(config);
    const handler = answering(answer);
    sqs.config.requestHandler = handler;
    return { sqs, handler, filters: countLogFilterCalls(sqs) };
  }

  it('caches the resolved middleware stack and makes no redacted copies', async () => {
    const { sqs, handler, filters } = client();
    await sqs.send(batch);
    await sqs.send(batch);
    expect(sqs.config.cacheMiddleware).toBe(true);
    expect(handler.requests).toBe(2);
    expect(filters.calls).toBe(0);
  });

  it('does not hash message bodies with MD5 (SigV4 already signs the body)', async () => {
    const { sqs } = client();
    await expect(sqs.send(batch)).resolves.toMatchObject({ Successful: [{ Id: 'm0', MessageId: 'id-0' }] });
  });
});
