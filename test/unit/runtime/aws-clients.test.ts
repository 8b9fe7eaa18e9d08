import { setFlagsFromString } from 'node:v8';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
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

/** A request handler that answers each request with `answer(body)` and keeps the bodies it was sent. */
function echoing(answer: (body: unknown) => unknown): RequestHandler & { bodies: unknown[] } {
  const handler = {
    bodies: [] as unknown[],
    handle: (request: { body?: unknown }) => {
      const body: unknown = JSON.parse(String(request.body));
      handler.bodies.push(body);
      const response = {
        statusCode: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: Buffer.from(JSON.stringify(answer(body))),
      };
      return Promise.resolve({ response });
    },
  };
  return handler as unknown as RequestHandler & { bodies: unknown[] };
}

/** Counts how often the client's middleware stack is resolved (a middleware's factory runs once per resolution). */
function countResolutions(client: DynamoDBDocumentClient): { resolutions: number; requests: number } {
  const counter = { resolutions: 0, requests: 0 };
  client.middlewareStack.add(
    (next) => {
      counter.resolutions += 1;
      return (args) => {
        counter.requests += 1;
        return next(args);
      };
    },
    { step: 'initialize', name: 'countResolutions' },
  );
  return counter;
}

const KeyBody = z.object({ Key: z.object({ sk: z.object({ S: z.string() }) }) });

describe('makeDynamoDocumentClient: one middleware resolution per command class', () => {
  it('sends each command with its own input and answers it with its own output', async () => {
    const doc = makeDynamoDocumentClient(config);
    // GetItem answers the item it was asked for: a handler bound to the first command would answer `a` every time.
    const handler = echoing((body) => {
      const key = KeyBody.safeParse(body);
      return key.success ? { Item: { pk: { S: 'OBJ#x' }, sk: key.data.Key.sk, n: { N: '1' } } } : {};
    });
    doc.config.requestHandler = handler;
    const counter = countResolutions(doc);

    const gets = await Promise.all(
      ['a', 'b', 'c'].map((sk) => doc.send(new GetCommand({ TableName: 't', Key: { pk: 'OBJ#x', sk } }))),
    );
    await doc.send(new PutCommand({ TableName: 't', Item: { pk: 'OBJ#x', sk: 'd', labels: { app: 'web' } } }));
    await doc.send(new PutCommand({ TableName: 't', Item: { pk: 'OBJ#x', sk: 'e', gone: undefined } }));

    expect(gets.map((g) => g.Item)).toEqual([
      { pk: 'OBJ#x', sk: 'a', n: 1 },
      { pk: 'OBJ#x', sk: 'b', n: 1 },
      { pk: 'OBJ#x', sk: 'c', n: 1 },
    ]);
    expect(handler.bodies[3]).toMatchObject({
      TableName: 't',
      Item: { pk: { S: 'OBJ#x' }, sk: { S: 'd' }, labels: { M: { app: { S: 'web' } } } },
    });
    // The client's translate options hold for every command of the class (undefined members removed).
    expect(handler.bodies[4]).toMatchObject({ Item: { sk: { S: 'e' } } });
    expect(handler.bodies[4]).not.toHaveProperty('Item.gone');
    // Five requests, two command classes: two resolutions.
    expect(counter).toEqual({ resolutions: 2, requests: 5 });
  });

  it('resolves a send with options, and a DynamoDB command sent through it, as the SDK does', async () => {
    const doc = makeDynamoDocumentClient(config);
    doc.config.requestHandler = echoing(() => ({ Items: [], Count: 0 }));
    const counter = countResolutions(doc);
    const query = (): QueryCommand =>
      new QueryCommand({
        TableName: 't',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'OBJ#x' },
      });

    await doc.send(query(), { abortSignal: new AbortController().signal });
    await doc.send(query(), { abortSignal: new AbortController().signal });
    await doc.send(new DeleteItemCommand({ TableName: 't', Key: { pk: { S: 'OBJ#x' }, sk: { S: 'a' } } }));
    await doc.send(new DeleteItemCommand({ TableName: 't', Key: { pk: { S: 'OBJ#x' }, sk: { S: 'b' } } }));

    expect(counter).toEqual({ resolutions: 4, requests: 4 });
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

/**
 * V8's own answer on how an object stores its properties (natives syntax, turned on for this file's functions built
 * after it). The SDK copies each client's resolved config three times per request; a copy of an object in dictionary
 * mode takes V8's slow path (lib/runtime/fast-properties.ts).
 */
function hasFastProperties(): (object: object) => boolean {
  setFlagsFromString('--allow-natives-syntax');
  return new Function('object', 'return %HasFastProperties(object)') as (object: object) => boolean;
}

describe("the clients' resolved config", () => {
  it('is in V8’s fast layout after construction and after sends, for both clients', async () => {
    const fast = hasFastProperties();
    const doc = makeDynamoDocumentClient(config);
    const sqs = makeSqsClient(config);
    // The SDK builds it in dictionary mode: what withFastProperties changes, and what a V8 that stopped honouring the
    // idiom would show here.
    expect(fast(makeDynamoDocumentClient(config, { fastConfig: false }).config)).toBe(false);
    expect(fast(makeSqsClient(config, { fastConfig: false }).config)).toBe(false);
    expect(fast(doc.config)).toBe(true);
    expect(fast(sqs.config)).toBe(true);

    doc.config.requestHandler = answering({ Item: { pk: { S: 'OBJ#a' }, sk: { S: 'DECISION' } } });
    sqs.config.requestHandler = answering({ Successful: [{ Id: 'm0', MessageId: 'id-0' }], Failed: [] });
    for (let i = 0; i < 3; i++) {
      await doc.send(new GetCommand({ TableName: 'tmc-state', Key: { pk: 'OBJ#a', sk: 'DECISION' } }));
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: 'http://127.0.0.1:1/000000000000/tmc-placement',
          Entries: [{ Id: 'm0', MessageBody: '{}' }],
        }),
      );
    }
    expect(fast(doc.config)).toBe(true);
    expect(fast(sqs.config)).toBe(true);
    // The same settings as before: only the layout changed.
    expect(doc.config.maxAttempts).toBeDefined();
    expect(await doc.config.region()).toBe('us-east-1');
    expect(await sqs.config.credentials()).toMatchObject({ accessKeyId: 'local' });
  });
});
