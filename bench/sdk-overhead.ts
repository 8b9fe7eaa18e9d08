import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { batchGetItems } from '../lib/adapters/dynamodb/table';
import { ensureQueues, ensureTable, startLocalDynamo, startLocalSqs } from '../lib/local/aws-services';
import { makeDynamoDocumentClient, makeSqsClient, type ClientBuildOptions } from '../lib/runtime/aws';
import { findProjectRoot } from '../lib/local/paths';
import { TABLE } from '../lib/runtime/resources';

/**
 * CPU the AWS SDK v3 client side spends per request, against the local emulators (the local stack is bound
 * by one process's CPU, and the same CPU is Lambda GB-seconds in the cloud). dynalite and fauxqs run in a child
 * process of their own (this file with `--emulators`), so `process.cpuUsage()` here is the client's alone: command,
 * middleware, serde, signing, the HTTP client. Requests are sequential, after a warm-up, for each client
 * configuration of {@link VARIANTS}: `tmc` is the one lib/runtime/aws.ts builds, the others are candidates, each
 * the same but for one option, measured side by side in one process.
 *
 * `node --import tsx bench/sdk-overhead.ts [--requests 3000] [--warmup 1000] [--variants tmc,before,...]`. The JIT
 * needs about a thousand requests of each kind before the figures settle; on a shared machine compare variants of
 * one run, not runs.
 */

/** BatchWriteItem puts 25 PutItem-shaped items; SendMessageBatch sends 10 messages, SendMessage one of the same. */
export type SdkOperation =
  'GetItem' | 'PutItem' | 'Query' | 'BatchGetItem' | 'BatchWriteItem' | 'SendMessageBatch' | 'SendMessage';
export const SDK_OPERATIONS: readonly SdkOperation[] = [
  'GetItem',
  'PutItem',
  'Query',
  'BatchGetItem',
  'BatchWriteItem',
  'SendMessageBatch',
  'SendMessage',
];

export interface SdkOverheadOptions {
  /** Measured requests per operation and variant (after `warmup` more). */
  requests: number;
  warmup: number;
  /** Names of {@link VARIANTS} to measure; all when undefined. */
  variants?: readonly string[];
  progress?: (line: string) => void;
}

export interface SdkOverheadRow {
  variant: string;
  description: string;
  operation: SdkOperation;
  requests: number;
  /** User + system CPU of this process per request, median of blocks (the emulators are in another process). */
  cpuMicrosPerRequest: number;
  wallMicrosPerRequest: number;
}

interface Clients {
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** The queue SendMessageBatch sends to, as these clients address it. */
  queueUrl: string;
}

interface Endpoints {
  dynamodb: string;
  sqs: string;
  queueUrl: string;
}

interface Variant {
  name: string;
  description: string;
  build(endpoints: Endpoints): Clients;
}

const REGION = 'us-east-1';

function tmcClients(
  endpoints: Endpoints,
  overrides: { dynamodb?: Record<string, unknown>; sqs?: Record<string, unknown> } = {},
  build: ClientBuildOptions = {},
): Clients {
  const config = { region: REGION, dynamodbEndpoint: endpoints.dynamodb, sqsEndpoint: endpoints.sqs };
  const doc = makeDynamoDocumentClient(config, build);
  const sqs = makeSqsClient(config, build);
  // Set before the first send, an option takes effect: the SDK reads these when it resolves a command's handler
  // (per send, or once with cacheMiddleware) or per request. test/unit/runtime/aws-clients.test.ts shows the effect
  // of the ones lib/runtime/aws.ts sets at construction.
  Object.assign(doc.config, overrides.dynamodb ?? {});
  Object.assign(sqs.config, overrides.sqs ?? {});
  return { doc, sqs, queueUrl: endpoints.queueUrl };
}

/** What the SDK sets when a client is given no logger and no md5 (NoOpLogger; the MD5 check of messages on). */
function sdkDefaults(): { logger: unknown; md5: unknown } {
  const { logger, md5 } = new SQSClient({ region: REGION }).config;
  return { logger, md5 };
}

type RequestHandler = DynamoDBDocumentClient['config']['requestHandler'];

/**
 * tmc's own request handler, sending what is addressed to AWS to the emulators instead: the clients as they are in
 * the cloud, endpoint rules included.
 */
function redirecting(handler: RequestHandler, targets: Record<string, URL>): RequestHandler {
  const redirect: RequestHandler['handle'] = (request, options) => {
    const target = targets[request.hostname.split('.')[0] ?? ''];
    if (target === undefined) throw new Error(`The SDK benchmark has no emulator for ${request.hostname}`);
    request.protocol = target.protocol;
    request.hostname = target.hostname;
    request.port = Number(target.port);
    return handler.handle(request, options);
  };
  return Object.assign(Object.create(handler) as RequestHandler, { handle: redirect });
}

/**
 * The clients lib/runtime/aws.ts builds in Lambda (no endpoint: the SDK's endpoint rules decide), their requests
 * redirected to the emulators, with dummy credentials instead of the default chain's. fauxqs knows its queues by
 * their local URL only, so SQS is told not to take its endpoint from the queue URL (in Lambda the two agree, and the
 * SDK only compares them: two URL parses a request that this variant does not pay).
 */
function cloudShapedClients(
  e: Endpoints,
  extra: { dynamodb?: Partial<DynamoDBClientConfig>; sqs?: Partial<SQSClientConfig> } = {},
): Clients {
  const config = { region: REGION, dynamodbEndpoint: undefined, sqsEndpoint: undefined };
  const doc = makeDynamoDocumentClient(config);
  const sqs = makeSqsClient(config);
  const targets = { dynamodb: new URL(e.dynamodb), sqs: new URL(e.sqs) };
  const credentials = (): Promise<{ accessKeyId: string; secretAccessKey: string }> =>
    Promise.resolve({ accessKeyId: 'local', secretAccessKey: 'local' });
  Object.assign(
    doc.config,
    { requestHandler: redirecting(doc.config.requestHandler, targets), credentials },
    extra.dynamodb,
  );
  Object.assign(
    sqs.config,
    { requestHandler: redirecting(sqs.config.requestHandler, targets), credentials, useQueueUrlAsEndpoint: false },
    extra.sqs,
  );
  return { doc, sqs, queueUrl: e.queueUrl };
}

/**
 * `tmc` and the candidates measured against it, each differing in one option (`before`: the configuration this
 * benchmark replaced). The `cloud` ones are built as lib/runtime/aws.ts builds them in Lambda.
 */
export const VARIANTS: readonly Variant[] = [
  { name: 'tmc', description: 'the clients lib/runtime/aws.ts builds', build: (e) => tmcClients(e) },
  {
    name: 'before',
    description: "tmc with the SDK's NoOpLogger and SQS's MD5 check (lib/runtime/aws.ts before bench/sdk-overhead.ts)",
    build: (e) => {
      const { logger, md5 } = sdkDefaults();
      return tmcClients(e, { dynamodb: { logger }, sqs: { logger, md5 } });
    },
  },
  {
    name: 'noop-logger',
    description: "tmc with the SDK's NoOpLogger (redacted copies of every input and output)",
    build: (e) => tmcClients(e, { dynamodb: { logger: sdkDefaults().logger }, sqs: { logger: sdkDefaults().logger } }),
  },
  {
    name: 'sqs-md5',
    description: 'tmc with the MD5 check of what SendMessageBatch answers',
    build: (e) => tmcClients(e, { sqs: { md5: sdkDefaults().md5 } }),
  },
  {
    name: 'sqs-no-cache',
    description: 'tmc, SQS without cacheMiddleware (the configuration before 32ca724)',
    build: (e) => tmcClients(e, { sqs: { cacheMiddleware: false } }),
  },
  {
    name: 'doc-uncached',
    description: "tmc with lib-dynamodb's own send (the document client resolving its middleware stack on every send)",
    build: (e) => {
      const clients = tmcClients(e);
      // The same client, its prototype's caching send swapped for the one every DynamoDBDocumentClient has.
      Object.setPrototypeOf(clients.doc, DynamoDBDocumentClient.prototype);
      return clients;
    },
  },
  {
    name: 'dictionary-config',
    description:
      "tmc with each client's resolved config left in V8's dictionary mode, as the SDK builds it (lib/runtime/aws.ts before withFastProperties)",
    build: (e) => tmcClients(e, {}, { fastConfig: false }),
  },
  {
    name: 'no-user-agent',
    description:
      "tmc without the SDK's user-agent middleware: not a candidate (AWS would get other headers), the upper bound of what a user-agent computed once per client could save",
    build: (e) => {
      const clients = tmcClients(e);
      clients.doc.middlewareStack.remove('getUserAgentMiddleware');
      clients.sqs.middlewareStack.remove('getUserAgentMiddleware');
      return clients;
    },
  },
  {
    name: 'cloud',
    description: 'as in Lambda: no endpoint set, the endpoint rules run (requests redirected)',
    build: (e) => cloudShapedClients(e),
  },
  {
    name: 'cloud-no-config-urls',
    description: 'cloud, ignoreConfiguredEndpointUrls: true',
    build: (e) =>
      cloudShapedClients(e, {
        dynamodb: { ignoreConfiguredEndpointUrls: true },
        sqs: { ignoreConfiguredEndpointUrls: true },
      }),
  },
];

const PAYLOAD = 'x'.repeat(600);

/** Items shaped like tmc's (a DECISION-sized item; a partition of a few SYNC items for Query and BatchGetItem). */
async function seed(doc: DynamoDBDocumentClient, tableName: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          [TABLE.partitionKey]: 'OBJ#bench',
          [TABLE.sortKey]: `SYNC#c${i}`,
          generation: i,
          status: 'applied',
          body: PAYLOAD,
        },
      }),
    );
  }
}

type Operation = (clients: Clients, i: number) => Promise<unknown>;

function operations(tableName: string): Record<SdkOperation, Operation> {
  const key = (i: number): Record<string, string> => ({
    [TABLE.partitionKey]: 'OBJ#bench',
    [TABLE.sortKey]: `SYNC#c${i % 10}`,
  });
  const item = (i: number): Record<string, unknown> => ({
    ...key(i),
    [TABLE.sortKey]: `PUT#${i % 50}`,
    generation: i,
    status: 'applied',
    body: PAYLOAD,
    labels: { app: 'web', tier: 'front' },
  });
  const message = (i: number, n: number): string => JSON.stringify({ i, n, body: PAYLOAD.slice(0, 300) });
  return {
    GetItem: ({ doc }, i) => doc.send(new GetCommand({ TableName: tableName, Key: key(i), ConsistentRead: true })),
    PutItem: ({ doc }, i) => doc.send(new PutCommand({ TableName: tableName, Item: item(i) })),
    Query: ({ doc }) =>
      doc.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :sk)',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
          ExpressionAttributeValues: { ':pk': 'OBJ#bench', ':sk': 'SYNC#' },
        }),
      ),
    BatchGetItem: ({ doc }) => batchGetItems(doc, tableName, [0, 1, 2, 3, 4].map(key), { consistentRead: true }),
    BatchWriteItem: ({ doc }, i) =>
      doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [tableName]: Array.from({ length: 25 }, (_, n) => ({
              PutRequest: { Item: { ...item(i * 25 + n), [TABLE.sortKey]: `BATCH#${n}` } },
            })),
          },
        }),
      ),
    SendMessageBatch: ({ sqs, queueUrl }, i) =>
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: 10 }, (_, n) => ({
            Id: `m${n}`,
            MessageBody: message(i, n),
          })),
        }),
      ),
    SendMessage: ({ sqs, queueUrl }, i) =>
      sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message(i, 0) })),
  };
}

/** One block of sequential requests: CPU and wall µs per request. */
async function block(
  run: Operation,
  clients: Clients,
  from: number,
  count: number,
): Promise<{ cpu: number; wall: number }> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = from; i < from + count; i++) await run(clients, i);
  const wall = Number(process.hrtime.bigint() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { cpu: (used.user + used.system) / count, wall: wall / count };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Requests per block: variants take turns block by block, so a burst of load elsewhere on the machine hits all alike. */
const BLOCK = 100;

const EndpointsSchema = z.object({ dynamodb: z.string().url(), sqs: z.string().url(), queueUrl: z.string().url() });

/** The emulators' process: this file with `--emulators`. Resolves with their endpoints once the table and queue exist. */
async function startEmulatorProcess(): Promise<{ child: ChildProcess; endpoints: Endpoints }> {
  // This file, found from the project root: jest compiles bench to CommonJS and tsx runs it as ESM, so neither
  // import.meta nor __filename is there in both.
  const script = join(findProjectRoot(), 'bench', 'sdk-overhead.ts');
  const child = fork(script, ['--emulators'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`The emulators' process for the SDK benchmark exited with code ${String(code)} before listening`);
    }),
  ])) as unknown[];
  return { child, endpoints: EndpointsSchema.parse(message) };
}

async function serveEmulators(): Promise<void> {
  const [dynamo, sqsServer] = await Promise.all([startLocalDynamo(), startLocalSqs()]);
  await ensureTable(
    new DynamoDBClient({
      region: REGION,
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    TABLE.baseName,
  );
  const queues = await ensureQueues(makeSqsClient({ region: REGION, sqsEndpoint: sqsServer.endpoint }));
  const endpoints: Endpoints = { dynamodb: dynamo.endpoint, sqs: sqsServer.endpoint, queueUrl: queues.placement.url };
  // Run by hand (no IPC channel), it prints them: a profiler can then drive the same emulators.
  if (process.send === undefined) process.stdout.write(`${JSON.stringify(endpoints)}\n`);
  else process.send(endpoints);
  // The parent closes our stdin when it is done (or dies).
  createInterface({ input: process.stdin }).on('close', () => {
    void Promise.all([dynamo.stop(), sqsServer.stop()]).finally(() => process.exit(0));
  });
}

/** Measures every operation for every variant (interleaved per operation, so drifting load hits all alike). */
export async function measureSdkOverhead(options: SdkOverheadOptions): Promise<SdkOverheadRow[]> {
  const variants = VARIANTS.filter((v) => options.variants === undefined || options.variants.includes(v.name));
  const unknown = (options.variants ?? []).filter((name) => !VARIANTS.some((v) => v.name === name));
  if (unknown.length > 0)
    throw new Error(
      `Unknown SDK benchmark variant(s) ${unknown.join(', ')}; known: ${VARIANTS.map((v) => v.name).join(', ')}`,
    );
  const { child, endpoints } = await startEmulatorProcess();
  try {
    const built = variants.map((variant) => ({ variant, clients: variant.build(endpoints) }));
    await seed(built[0]!.clients.doc, TABLE.baseName);
    const ops = operations(TABLE.baseName);
    const rows: SdkOverheadRow[] = [];
    const blocks = Math.max(1, Math.round(options.requests / BLOCK));
    for (const operation of SDK_OPERATIONS) {
      const run = ops[operation];
      for (const { clients } of built) for (let i = 0; i < options.warmup; i++) await run(clients, i);
      const samples = built.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
      for (let b = 0; b < blocks; b++) {
        for (const [v, { clients }] of built.entries()) {
          const { cpu, wall } = await block(run, clients, b * BLOCK, BLOCK);
          samples[v]!.cpu.push(cpu);
          samples[v]!.wall.push(wall);
        }
      }
      for (const [v, { variant }] of built.entries()) {
        // The median block: the per-request cost without the blocks a collection or another process's burst landed in.
        const cpu = Math.round(median(samples[v]!.cpu));
        const wall = Math.round(median(samples[v]!.wall));
        rows.push({
          variant: variant.name,
          description: variant.description,
          operation,
          requests: blocks * BLOCK,
          cpuMicrosPerRequest: cpu,
          wallMicrosPerRequest: wall,
        });
        options.progress?.(
          `  sdk ${operation.padEnd(16)} ${variant.name.padEnd(22)} ${cpu} µs CPU, ${wall} µs wall per request (median of ${blocks} blocks of ${BLOCK})`,
        );
      }
    }
    return rows;
  } finally {
    child.stdin?.end();
    await once(child, 'exit');
  }
}

/** The rows as a table: one line per variant, µs of CPU per request for each operation. */
export function formatSdkOverhead(rows: readonly SdkOverheadRow[]): string {
  const variants = [...new Set(rows.map((r) => r.variant))];
  const header = ['variant'.padEnd(22), ...SDK_OPERATIONS.map((op) => op.padStart(17))].join('');
  const lines = variants.map((variant) =>
    [
      variant.padEnd(22),
      ...SDK_OPERATIONS.map((op) =>
        String(rows.find((r) => r.variant === variant && r.operation === op)?.cpuMicrosPerRequest ?? '-').padStart(17),
      ),
    ].join(''),
  );
  return ['AWS SDK client CPU per request (µs, user+system, emulators in another process)', header, ...lines].join(
    '\n',
  );
}

const Args = z.object({
  requests: z.coerce.number().int().positive().default(3000),
  warmup: z.coerce.number().int().nonnegative().default(1000),
  variants: z.string().optional(),
});

function parseArgs(argv: readonly string[]): z.infer<typeof Args> {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '');
    if (name !== undefined && argv[i + 1] !== undefined) raw[name] = argv[i + 1]!;
  }
  return Args.parse(raw);
}

if (basename(process.argv[1] ?? '') === 'sdk-overhead.ts') {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (process.argv.includes('--emulators')) {
    void serveEmulators();
  } else {
    const args = parseArgs(process.argv.slice(2));
    void measureSdkOverhead({
      requests: args.requests,
      warmup: args.warmup,
      variants: args.variants?.split(','),
      progress: (line) => process.stderr.write(`${line}\n`),
    }).then(
      (rows) => process.stdout.write(`${formatSdkOverhead(rows)}\n`),
      (err: unknown) => {
        process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 1;
      },
    );
  }
}
