import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { asTmcError } from '../../../lib/errors/tmc-error';
import { makeDynamoDocumentClient, makeSqsClient, type ClientBuildOptions } from '../../../lib/runtime/aws';
import { startHangingServer, startUnconnectableServer, type HangingServer } from '../../support/hanging-server';

/**
 * The AWS clients' own timeouts end a hanging request, outside any invocation deadline too (the fail-open webhook's
 * carried-on sends, the CLI, the local stack): @smithy/node-http-handler 4.x only warns at `requestTimeout` unless told
 * to throw (lib/runtime/aws-request-handler.ts). The SDK retries the timeout up to the client's maxAttempts, then the
 * call fails with an error tmc reads as a retryable NetworkError.
 */

/** Far above what the calls below need (four attempts of a fraction of a second each, plus the SDK's backoff). */
const GENEROUS_MS = 30_000;

/** What a call ended with, or 'still pending' if it had not settled within {@link GENEROUS_MS}. */
async function settled(call: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      call.then(
        () => 'answered',
        (err: unknown) => err,
      ),
      new Promise((resolve) => (timer = setTimeout(() => resolve('still pending'), GENEROUS_MS))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const clients: Array<[string, (url: string, options: ClientBuildOptions) => () => Promise<unknown>]> = [
  [
    'DynamoDB',
    (url, options) => {
      const doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: url }, options);
      return () => doc.send(new GetCommand({ TableName: 'tmc-state', Key: { pk: 'a', sk: 'b' } }));
    },
  ],
  [
    'SQS',
    (url, options) => {
      const sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: url }, options);
      return () => sqs.send(new SendMessageCommand({ QueueUrl: `${url}/000000000000/tmc-sync`, MessageBody: '{}' }));
    },
  ],
];

describe('AWS clients: a request that hangs past its timeout fails, retryably', () => {
  let server: HangingServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it.each(clients)('%s: a service that accepts and never answers', async (_service, build) => {
    server = await startHangingServer();
    const result = await settled(build(server.url, { requestTimeoutMs: 200 })());

    expect(result).toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT', $metadata: { attempts: 4 } });
    // Every attempt reached the service and was given up on: the SDK retried the timeout as a transient error.
    expect(server.requests()).toBe(4);
    expect(asTmcError(result)).toMatchObject({ name: 'NetworkError', category: 'network', retryable: true });
  });

  it.each(clients)('%s: a service whose TCP connect never completes', async (_service, build) => {
    server = await startUnconnectableServer();
    const result = await settled(build(server.url, { requestTimeoutMs: 5_000, connectionTimeoutMs: 200 })());

    // smithy's connect timeout carries no error code, only its name.
    expect(result).toMatchObject({ name: 'TimeoutError', $metadata: { attempts: 4 } });
    expect(asTmcError(result)).toMatchObject({ name: 'NetworkError', category: 'network', retryable: true });
  });
});
