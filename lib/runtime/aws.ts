import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { traceAwsClient } from '../observability/tracing';
import { applyAwsClientHook } from './aws-client-hook';
import { stampSchemaVersion } from '../adapters/dynamodb/schema-version';
import { carryInvocationDeadline, requestHandlerOptions } from './aws-request-handler';
import { HandlerCachingDocumentClient } from './aws-document-client';
import { withFastProperties } from './fast-properties';
import type { TmcConfig } from './config';

/**
 * AWS clients, built once per container by the composition root and passed in (never module singletons).
 * Against the local stack (endpoints set) they use dummy credentials: dynalite and fauxqs accept any signature, and
 * this keeps a developer's real AWS profile out of local runs. In the cloud the default credential chain applies.
 */

type ClientConfig = Pick<TmcConfig, 'region' | 'dynamodbEndpoint' | 'sqsEndpoint'>;

/** Options for measurements and tests; the functions build their clients with the defaults. */
export interface ClientBuildOptions {
  /** bench/sdk-overhead.ts `dictionary-config`: `false` leaves out withFastProperties. */
  fastConfig?: boolean;
  /** The request timeout of each attempt (lib/runtime/aws-request-handler.ts); tests set it low. */
  requestTimeoutMs?: number;
  /** The TCP connect timeout of each attempt; tests set it low. */
  connectionTimeoutMs?: number;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/*
 * `cacheMiddleware`: the SDK otherwise re-resolves the whole middleware stack on every send (resolveMiddleware and
 * getMiddlewareList are a large share of the SDK's CPU; figures in docs/bench.md "SDK client options"). The handler is cached per command class, so nothing may change a client's middleware stack after its
 * first send: the X-Ray middleware is added before then, because traceAwsClient holds sends until it is in place.
 * Only the SQS client: lib-dynamodb's DynamoDBDocumentClient refuses a client with cacheMiddleware, so the document
 * client caches its commands' handlers itself (HandlerCachingDocumentClient).
 */
function endpointOptions(endpoint: string | undefined): Record<string, unknown> {
  return endpoint === undefined ? {} : { endpoint, credentials: LOCAL_CREDENTIALS };
}

/**
 * The SDK clients' logger: the SDK's warnings reach the console (as they do with the default NoOpLogger, which the SDK
 * bypasses for its warnings), nothing else is logged. It has no `info` and no `error` on purpose: after every request
 * the SDK's logger middleware calls `logger?.info?.({ input: filter(input), output: filter(output) })`, and after every
 * failure (a failed condition is a routine answer here) `logger?.error?.(…)`, and those filters walk the whole input
 * and output against the operation's schema to redact sensitive members. With NoOpLogger the copies are computed and
 * dropped; optional chaining skips the call, arguments included, only when the method is missing (bench/sdk-overhead.ts; docs/bench.md
 * "SDK client options").
 */
export const SDK_LOGGER: Pick<NonNullable<DynamoDBClientConfig['logger']>, 'debug' | 'warn'> = {
  debug: () => undefined,
  warn: (...content: unknown[]) => console.warn(...content),
};

/** The SDK's own logger type asks for all four methods; the SDK calls `info` and `error` only as optional (`?.`). */
const sdkLogger = SDK_LOGGER as NonNullable<DynamoDBClientConfig['logger']>;

/*
 * Measured by bench/sdk-overhead.ts and left as they are: `ignoreConfiguredEndpointUrls` (the configured-endpoint
 * lookup is already memoised per client) and the endpoint rules (cached per parameter set: the clients as in Lambda,
 * no endpoint set, cost the same as with one).
 */

/** A DynamoDB document client: undefined attributes dropped, numbers as JS numbers. */
export function makeDynamoDocumentClient(
  config: ClientConfig,
  { fastConfig = true, requestTimeoutMs = 10_000, connectionTimeoutMs }: ClientBuildOptions = {},
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: config.region,
    requestHandler: requestHandlerOptions(requestTimeoutMs, connectionTimeoutMs),
    maxAttempts: 4,
    logger: sdkLogger,
    ...endpointOptions(config.dynamodbEndpoint),
  });
  carryInvocationDeadline(client, 'DynamoDB');
  stampSchemaVersion(client);
  applyAwsClientHook(client, 'dynamodb');
  const doc = new HandlerCachingDocumentClient(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  // The document client shares the client's middleware stack, so the X-Ray middleware reaches both; it sends on its
  // own, so its sends wait for the instrumentation too.
  traceAwsClient(client, doc);
  // The document client's config is its client's (one object): copied three times per request by the SDK.
  if (fastConfig) withFastProperties(client.config);
  return doc;
}

/**
 * `md5: false`: the SDK otherwise hashes every message body it sends (and receives) with MD5 and compares it with
 * the MD5 SQS answers, a new hash object per message (docs/bench.md "SDK client options"). The check
 * adds no integrity the request does not already have: SigV4 signs the SHA-256 of the request body, which SQS
 * verifies before accepting it, and responses travel over TLS. (The SDK offers the option for FIPS hosts.)
 */
export function makeSqsClient(
  config: ClientConfig,
  { fastConfig = true, requestTimeoutMs = 30_000, connectionTimeoutMs }: ClientBuildOptions = {},
): SQSClient {
  const client = new SQSClient({
    region: config.region,
    // Above the local stack's 20 s long polls (lib/local/event-source.ts); the functions' sends answer in milliseconds.
    requestHandler: requestHandlerOptions(requestTimeoutMs, connectionTimeoutMs),
    maxAttempts: 4,
    cacheMiddleware: true,
    logger: sdkLogger,
    md5: false,
    ...endpointOptions(config.sqsEndpoint),
  });
  carryInvocationDeadline(client, 'SQS');
  applyAwsClientHook(client, 'sqs');
  if (fastConfig) withFastProperties(client.config);
  // Traced so SendMessage carries the X-Ray header that SQS passes on as AWSTraceHeader (lib/observability/tracing.ts).
  return traceAwsClient(client);
}
