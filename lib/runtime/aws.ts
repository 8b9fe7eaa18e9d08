import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { traceAwsClient } from '../observability/tracing';
import type { TmcConfig } from './config';

/**
 * AWS clients, built once per container by the composition root and passed in (never module singletons).
 * Against the local stack (endpoints set) they use dummy credentials: dynalite and fauxqs accept any signature, and
 * this keeps a developer's real AWS profile out of local runs. In the cloud the default credential chain applies.
 */

type ClientConfig = Pick<TmcConfig, 'region' | 'dynamodbEndpoint' | 'sqsEndpoint'>;

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Keep-alive saves a TLS handshake per call on warm containers; maxSockets bounds bursts from one container. The SDK
 * sets no socket timeout by default, so one lost response would hold an invocation until the Lambda timeout: give
 * every request a deadline (SQS's must outlast a 20 s long poll) and let the SDK's retries take over.
 */
function requestHandler(requestTimeoutMs: number): { httpAgent: HttpAgent; httpsAgent: HttpsAgent; requestTimeout: number; connectionTimeout: number } {
  return {
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
    requestTimeout: requestTimeoutMs,
    connectionTimeout: 3_000,
  };
}

/*
 * `cacheMiddleware`: the SDK otherwise re-resolves the whole middleware stack on every send (resolveMiddleware and
 * getMiddlewareList were ~3 of 18 s of SDK CPU in a 100x3 local benchmark; a GetItem against dynalite costs ~20% less
 * CPU with it). The handler is cached per command class, so nothing may change a client's middleware stack after its
 * first send: the X-Ray middleware is added before then, because traceAwsClient holds sends until it is in place.
 * Only the SQS client: lib-dynamodb's DynamoDBDocumentClient refuses a client with cacheMiddleware.
 */
function endpointOptions(endpoint: string | undefined): Record<string, unknown> {
  return endpoint === undefined ? {} : { endpoint, credentials: LOCAL_CREDENTIALS };
}

/** A DynamoDB document client: undefined attributes dropped, numbers as JS numbers. */
export function makeDynamoDocumentClient(config: ClientConfig): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: config.region,
    requestHandler: requestHandler(10_000),
    maxAttempts: 4,
    ...endpointOptions(config.dynamodbEndpoint),
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  // The document client shares the client's middleware stack, so the X-Ray middleware reaches both; it sends on its
  // own, so its sends wait for the instrumentation too.
  traceAwsClient(client, doc);
  return doc;
}

export function makeSqsClient(config: ClientConfig): SQSClient {
  // Traced so SendMessage carries the X-Ray header that SQS passes on as AWSTraceHeader (lib/observability/tracing.ts).
  return traceAwsClient(
    new SQSClient({
      region: config.region,
      requestHandler: requestHandler(30_000),
      maxAttempts: 4,
      cacheMiddleware: true,
      ...endpointOptions(config.sqsEndpoint),
    }),
  );
}
