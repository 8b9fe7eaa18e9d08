import { channel, type Channel } from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import { z } from 'zod';

/**
 * Counts DynamoDB and SQS operations at the emulators' side (dynalite and fauxqs run in this process), from Node's
 * `http.server.request.start` diagnostics channel: no SDK middleware, no change to the stack's clients, and the
 * count includes the SDK's own retries, which a real bill would too. Requests are told apart by the server's port.
 *
 * dynalite attaches its body listener in the same tick as this channel fires, so its bodies can be read here too:
 * DynamoDB operations are also attributed to the kind of item they touch (the sort key's prefix: `SYNC`, `STATUS`,
 * `DECISION`, `TRACE`, …), so an excess over the floor can be traced to the code that writes it.
 */

export type AwsService = 'dynamodb' | 'sqs';

export interface AwsOpCounts {
  /** `PutItem`, `GetItem`, `SendMessageBatch`, … → requests. */
  requests: Record<string, number>;
  /** DynamoDB: `PutItem SYNC`, `Query gsi1`, … → requests (batch operations count their items). */
  byItem: Record<string, number>;
  /** DynamoDB request body bytes of writes (a lower bound on item sizes, for write units). */
  writeBytes: number;
}

export interface AwsOpCounter {
  snapshot(service: AwsService): AwsOpCounts;
  reset(): void;
  close(): void;
}

const DYNAMO_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** A DynamoDB attribute value as the wire carries it; only string keys matter here. */
const KeyAttr = z.object({ S: z.string() }).partial();
const DynamoBody = z
  .object({
    Key: z.record(z.string(), KeyAttr).optional(),
    Item: z.record(z.string(), KeyAttr).optional(),
    IndexName: z.string().optional(),
    RequestItems: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

function itemKind(body: z.infer<typeof DynamoBody>): string {
  const sk = body.Key?.sk?.S ?? body.Item?.sk?.S;
  if (sk === undefined) return '?';
  const hash = sk.indexOf('#');
  return hash < 0 ? sk : sk.slice(0, hash);
}

export function emptyCounts(): AwsOpCounts {
  return { requests: {}, byItem: {}, writeBytes: 0 };
}

/** Total of the named operations in a snapshot. */
export function countOf(counts: AwsOpCounts, ops: Iterable<string>): number {
  let n = 0;
  for (const op of ops) n += counts.requests[op] ?? 0;
  return n;
}

export const dynamoReadOps = (counts: AwsOpCounts): number => countOf(counts, DYNAMO_READS);
export const dynamoWriteOps = (counts: AwsOpCounts): number => countOf(counts, DYNAMO_WRITES);

/** BatchWriteItem lists requests per table; BatchGetItem has `{ Keys: [...] }` per table. */
function batchSize(perTable: unknown): number {
  if (Array.isArray(perTable)) return perTable.length;
  const keys = z.object({ Keys: z.array(z.unknown()) }).safeParse(perTable);
  return keys.success ? keys.data.Keys.length : 1;
}

function add(record: Record<string, number>, key: string, n = 1): void {
  record[key] = (record[key] ?? 0) + n;
}

function readBody(request: IncomingMessage, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  // The emulator attaches its own 'data' listener in the same tick; both see every chunk.
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Starts counting requests to the DynamoDB and SQS endpoints given (`http://127.0.0.1:<port>`). */
export function countAwsOperations(endpoints: Record<AwsService, string>): AwsOpCounter {
  const ports = new Map<number, AwsService>();
  for (const [service, url] of Object.entries(endpoints) as Array<[AwsService, string]>) ports.set(Number(new URL(url).port), service);
  let counts: Record<AwsService, AwsOpCounts> = { dynamodb: emptyCounts(), sqs: emptyCounts() };

  const onRequest = (message: unknown): void => {
    const parsed = z.object({ request: z.custom<IncomingMessage>(), server: z.custom<Server>() }).safeParse(message);
    if (!parsed.success) return;
    const { request, server } = parsed.data;
    const address = server.address();
    const service = typeof address === 'object' && address !== null ? ports.get(address.port) : undefined;
    if (service === undefined) return;
    const target = request.headers['x-amz-target'];
    const op = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : 'unknown';
    const bucket = counts[service];
    add(bucket.requests, op);
    // SQS bodies are not read: fauxqs parses its body asynchronously, after chunks a second reader would start.
    // Messages sent are counted by tmc's own tmc_messages_enqueued_total instead.
    if (service === 'sqs') return;
    readBody(request, (text) => {
      if (counts[service] !== bucket) return; // reset while the body was arriving: belongs to the previous phase
      const body = parseJson(text);
      const dynamo = DynamoBody.safeParse(body);
      if (!dynamo.success) return;
      if (DYNAMO_WRITES.has(op)) bucket.writeBytes += Buffer.byteLength(text);
      if (op === 'Query' || op === 'Scan') add(bucket.byItem, `${op} ${dynamo.data.IndexName ?? 'table'}`);
      else if (op === 'BatchGetItem' || op === 'BatchWriteItem') {
        const items = Object.values(dynamo.data.RequestItems ?? {}).reduce<number>((n, v) => n + batchSize(v), 0);
        add(bucket.byItem, `${op} items`, items);
      } else add(bucket.byItem, `${op} ${itemKind(dynamo.data)}`);
    });
  };

  const start: Channel = channel('http.server.request.start');
  start.subscribe(onRequest);
  return {
    snapshot: (service) => structuredClone(counts[service]),
    reset: () => {
      counts = { dynamodb: emptyCounts(), sqs: emptyCounts() };
    },
    close: () => {
      start.unsubscribe(onRequest);
    },
  };
}
