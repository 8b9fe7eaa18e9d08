import { channel, type Channel } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { HARNESS_USER_AGENT } from '../../lib/local/harness-user-agent';
import { TABLE } from '../../lib/runtime/resources';
import { itemKind } from './item-kind';
import type { KindSizes } from './item-size';
import { portOf, ServerRequestMessage } from './server-request';

/**
 * Counts DynamoDB and SQS operations at the emulators' side, from Node's `http.server.request.start` diagnostics
 * channel of the thread it runs in (the bench runs it inside dynalite's and fauxqs's worker threads, through
 * aws-op-counter-threads.ts): no SDK middleware, no change to the stack's clients, and the
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
  /**
   * DynamoDB: `PutItem SYNC`, `Query gsi1`, … → requests (batch operations count their items). SQS: the operation and
   * the queue it addressed, `SendMessageBatch tmc-sync` → requests.
   */
  byItem: Record<string, number>;
  /** SQS batch operations by queue (`DeleteMessageBatch tmc-sync`) → entries they carried, for entries per request. */
  entries?: Record<string, number>;
  /**
   * The local stack's own requests (its idle checks, told apart by HARNESS_USER_AGENT) by operation: left out of
   * `requests` and `byItem`, which then hold what tmc sent, its schedules' GetQueueAttributes included.
   */
  harness?: Record<string, number>;
  /** DynamoDB request body bytes of writes (what write units were estimated from before item sizes were measured). */
  writeBytes: number;
  /**
   * DynamoDB: writes that take an item off gsi1, by their `byItem` key (`PutItem SYNC`): a PutItem whose item carries
   * the TTL attribute and no gsi1 key, the record of an object or copy that ended (lib/adapters/dynamodb's
   * decision-store and sync-state-store drop the index keys exactly there). DynamoDB bills the index entry's delete.
   */
  gsi1Leaves?: Record<string, number>;
  /** DynamoDB: the table's items sized by kind after the phase (bench/support/item-size.ts); not the counter's. */
  itemBytes?: Record<string, KindSizes>;
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
/** BatchGetItem has `{ Keys: [...] }` per table (BatchWriteItem an array of requests). */
const BatchGetTable = z.object({ Keys: z.array(z.unknown()) });

/** How one DynamoDB request is counted in `byItem`: `PutItem SYNC`, `Query gsi1`, `BatchWriteItem items` × n. */
export interface DynamoItemCount {
  key: string;
  n: number;
  /** Set (true) on a PutItem of an ending record that leaves gsi1 ({@link AwsOpCounts.gsi1Leaves}). */
  leavesGsi1?: true;
}

const GSI1_PK = TABLE.indexes[0].partitionKey;

/** Whether a PutItem's item (its attribute names) is an ending record that carries no gsi1 key. */
const leavesGsi1 = (op: string, hasTtl: boolean, hasIndexKey: boolean): boolean =>
  op === 'PutItem' && hasTtl && !hasIndexKey;

export function emptyCounts(): AwsOpCounts {
  return { requests: {}, byItem: {}, entries: {}, writeBytes: 0 };
}

/** Total of the named operations in a snapshot. */
export function countOf(counts: AwsOpCounts, ops: Iterable<string>): number {
  let n = 0;
  for (const op of ops) n += counts.requests[op] ?? 0;
  return n;
}

export const dynamoReadOps = (counts: AwsOpCounts): number => countOf(counts, DYNAMO_READS);
export const dynamoWriteOps = (counts: AwsOpCounts): number => countOf(counts, DYNAMO_WRITES);

function batchSize(perTable: unknown): number {
  if (Array.isArray(perTable)) return perTable.length;
  const keys = BatchGetTable.safeParse(perTable);
  return keys.success ? keys.data.Keys.length : 1;
}

/**
 * The count of a request from its whole parsed body: what {@link dynamoItemCount} falls back to, and what it must
 * always agree with. `undefined` when the body is no DynamoDB JSON object (nothing is counted for it).
 */
export function dynamoItemCountByParsing(op: string, text: string): DynamoItemCount | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const body = DynamoBody.safeParse(json);
  if (!body.success) return undefined;
  if (op === 'Query' || op === 'Scan') return { key: `${op} ${body.data.IndexName ?? 'table'}`, n: 1 };
  if (op === 'BatchGetItem' || op === 'BatchWriteItem') {
    return {
      key: `${op} items`,
      n: Object.values(body.data.RequestItems ?? {}).reduce<number>((n, v) => n + batchSize(v), 0),
    };
  }
  const keyed = body.data.Key?.sk?.S !== undefined ? body.data.Key : body.data.Item;
  const key = `${op} ${itemKind(keyed?.sk?.S, keyed?.pk?.S)}`;
  const item = body.data.Item;
  return item !== undefined && leavesGsi1(op, TABLE.ttlAttribute in item, GSI1_PK in item)
    ? { key, n: 1, leavesGsi1: true }
    : { key, n: 1 };
}

/**
 * How a DynamoDB request is counted, read off its body without parsing it where that is exact. A PutItem body carries
 * the whole item (manifests, kilobytes) and every request of the run passes here: parsing each one (and checking it
 * with a schema) to read one short sort key would cost the benchmark a visible share of its main thread. Batch requests, rare, are
 * parsed; so is anything the scan does not expect, so the counts are those of {@link dynamoItemCountByParsing}
 * (test/integration/bench/aws-op-counter.test.ts compares both on real bodies).
 */
export function dynamoItemCount(op: string, text: string): DynamoItemCount | undefined {
  const scanned = dynamoItemCountByScanning(op, text);
  return scanned === 'parse' ? dynamoItemCountByParsing(op, text) : scanned;
}

/** The count read by the scan, or 'parse' when the body is one the scan leaves to the parser. */
export function dynamoItemCountByScanning(op: string, text: string): DynamoItemCount | 'parse' {
  if (op === 'BatchGetItem' || op === 'BatchWriteItem') return 'parse';
  const top = topLevel(text);
  if (top === undefined) return 'parse';
  if (op === 'Query' || op === 'Scan') {
    const index = top.indexName === undefined ? 'table' : stringAt(text, top.indexName);
    return index === undefined ? 'parse' : { key: `${op} ${index}`, n: 1 };
  }
  const sortKey = top.key ?? top.item ?? undefined;
  const key = `${op} ${itemKind(sortKey, (top.key !== null ? top.keyPk : top.itemPk) ?? undefined)}`;
  return top.itemLeavesGsi1 !== undefined && leavesGsi1(op, top.itemLeavesGsi1.ttl, top.itemLeavesGsi1.indexKey)
    ? { key, n: 1, leavesGsi1: true }
    : { key, n: 1 };
}

// A scan of the SDK's JSON, by hand: JSON.parse builds the whole value, which is the cost being avoided, and a
// tokenizing library (jsonc-parser's visitor) walks every character of a kilobyte-long manifest string in JavaScript
// where indexOf jumps to its closing quote. It reads only what a count needs and answers undefined (the caller then
// parses) for anything it does not expect; it validates nothing beyond nesting and string ends (the bodies are the
// SDK's).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Where a member's value starts and ends in the text. */
interface Span {
  start: number;
  end: number;
}

function skipSpace(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
  return i;
}

/** Index past the string whose opening quote is at `i`, or -1. */
function endOfString(text: string, i: number): number {
  for (let from = i + 1; ;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Index past the JSON value starting at `i`, or -1. */
function endOfValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === QUOTE) return endOfString(text, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) {
        const end = endOfString(text, j);
        if (end < 0) return -1;
        j = end - 1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return j + 1;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let j = i;
  for (
    let c = text.charCodeAt(j);
    j < text.length &&
    c !== COMMA &&
    c !== CLOSE_BRACE &&
    c !== CLOSE_BRACKET &&
    c !== 0x20 &&
    c !== 0x0a &&
    c !== 0x0d &&
    c !== 0x09;
    c = text.charCodeAt(++j)
  );
  return j > i ? j : -1;
}

/**
 * Finds the members named `names` in the object at `i`: `spans[k]` is where the value of `names[k]` is (the last of a
 * repeated name wins, as with JSON.parse). Answers the index past the object, or -1 when there is no well-formed
 * object there, a member name is escaped (JSON.parse would unescape it; the SDK never escapes one), or
 * `objectValues` is set and a member's value is not an object. `endOfNamed` reads a named member's value itself
 * (answering the index past it), so that a nested object is walked once.
 */
function scanObject(
  text: string,
  i: number,
  names: readonly string[],
  spans: Array<Span | undefined>,
  options: { objectValues?: boolean; endOfNamed?: (name: number, start: number) => number } = {},
): number {
  if (text.charCodeAt(i) !== OPEN_BRACE) return -1;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return -1;
    const keyEnd = endOfString(text, i);
    if (keyEnd < 0) return -1;
    for (let k = i + 1; k < keyEnd - 1; k++) if (text.charCodeAt(k) === BACKSLASH) return -1;
    let named = -1;
    for (let n = 0; n < names.length; n++)
      if (names[n].length === keyEnd - i - 2 && text.startsWith(names[n], i + 1)) named = n;
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return -1;
    const start = skipSpace(text, i + 1);
    if (options.objectValues && text.charCodeAt(start) !== OPEN_BRACE) return -1;
    const end = named >= 0 && options.endOfNamed ? options.endOfNamed(named, start) : endOfValue(text, start);
    if (end < 0) return -1;
    if (named >= 0) spans[named] = { start, end };
    i = skipSpace(text, end);
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACE) return i + 1;
    if (c !== COMMA) return -1;
    i = skipSpace(text, i + 1);
  }
}

const TOP_LEVEL = ['Key', 'Item', 'IndexName', 'RequestItems'] as const;
const SK = ['sk', 'pk'] as const;
/** An Item's members read: its keys, and whether it carries the TTL attribute and gsi1's partition key. */
const ITEM_MEMBERS = ['sk', 'pk', TABLE.ttlAttribute, GSI1_PK] as const;
const S = ['S'] as const;

/**
 * What a count reads off the body: `IndexName`, and `sk.S` of the top-level `Key` and `Item` (a string; null when
 * that map or its `sk` or the `S` is absent or `sk` is not a string). Undefined when the body is not an object the
 * scan understands, or is one the parsing path's schema refuses (an attribute that is no object, an `S` or
 * `IndexName` that is no string): the caller leaves it to the parser.
 */
function topLevel(text: string):
  | {
      key: string | null;
      item: string | null;
      /** `pk.S` of `Key` and of `Item`, as `key` and `item` are read. */
      keyPk: string | null;
      itemPk: string | null;
      indexName?: Span;
      itemLeavesGsi1?: { ttl: boolean; indexKey: boolean };
    }
  | undefined {
  const spans: Array<Span | undefined> = [];
  const sk: Array<Array<Span | undefined>> = [[], []];
  // Key's and Item's attributes are read as their spans are found.
  const endOfNamed = (name: number, start: number): number =>
    name <= 1
      ? scanObject(text, start, name === 0 ? SK : ITEM_MEMBERS, sk[name], { objectValues: true })
      : endOfValue(text, start);
  const end = scanObject(text, skipSpace(text, 0), TOP_LEVEL, spans, { endOfNamed });
  // Text after the object: JSON.parse would refuse the body.
  if (end < 0 || skipSpace(text, end) !== text.length) return undefined;
  const [, , indexName, requestItems] = spans;
  if (indexName !== undefined && text.charCodeAt(indexName.start) !== QUOTE) return undefined;
  if (requestItems !== undefined && text.charCodeAt(requestItems.start) !== OPEN_BRACE) return undefined;
  const key = spans[0] === undefined ? null : sortKeyOf(text, sk[0][0]);
  const item = spans[1] === undefined ? null : sortKeyOf(text, sk[1][0]);
  const keyPk = spans[0] === undefined ? null : sortKeyOf(text, sk[0][1]);
  const itemPk = spans[1] === undefined ? null : sortKeyOf(text, sk[1][1]);
  if (key === undefined || item === undefined || keyPk === undefined || itemPk === undefined) return undefined;
  const itemLeavesGsi1 =
    spans[1] === undefined ? undefined : { ttl: sk[1][2] !== undefined, indexKey: sk[1][3] !== undefined };
  return { key, item, keyPk, itemPk, indexName, ...(itemLeavesGsi1 ? { itemLeavesGsi1 } : {}) };
}

/** `S` of the key attribute (`sk`, `pk`) at `span`: null when there is none, undefined when it is no string. */
function sortKeyOf(text: string, span: Span | undefined): string | null | undefined {
  if (span === undefined) return null;
  const s: Array<Span | undefined> = [];
  if (scanObject(text, span.start, S, s) < 0) return undefined;
  return s[0] === undefined ? null : stringAt(text, s[0]);
}

/** The string at `span`, unescaped; undefined when the value there is not a string. */
function stringAt(text: string, span: Span): string | undefined {
  if (text.charCodeAt(span.start) !== QUOTE) return undefined;
  const raw = text.slice(span.start + 1, span.end - 1);
  if (!raw.includes('\\')) return raw;
  const parsed: unknown = JSON.parse(text.slice(span.start, span.end));
  return typeof parsed === 'string' ? parsed : undefined;
}

function add(record: Record<string, number>, key: string, n = 1): void {
  record[key] = (record[key] ?? 0) + n;
}

/**
 * How an SQS request is counted: its operation and the queue its `QueueUrl` names (the URL's last path segment), and
 * for a batch operation the entries it carries. Read off the SDK's JSON with a search, not a parse: a value inside a
 * string has its quotes escaped, so `"QueueUrl"` and `"Id"` followed by a colon occur only as member names. `entries`
 * is undefined for operations that are not batches.
 */
export function sqsRequestCount(op: string, text: string): { key: string; entries?: number } {
  const url = /"QueueUrl"\s*:\s*"([^"]*)"/.exec(text)?.[1];
  const queue = url === undefined ? '?' : url.slice(url.lastIndexOf('/') + 1) || '?';
  const key = `${op} ${queue}`;
  if (!op.endsWith('Batch')) return { key };
  let entries = 0;
  for (const member = /"Id"\s*:/g; member.exec(text) !== null;) entries++;
  return { key, entries };
}

/**
 * The body as the server's own reader sees it, without reading it: the request's `emit` is wrapped, so every `data`
 * chunk the server's listener gets passes here too, and no listener of ours changes when or how the stream flows
 * (fauxqs's fastify attaches its reader a few ticks after this channel fires; a reader attached now would start the
 * flow and the server would miss the chunks before its own).
 */
function tapBody(request: IncomingMessage, done: (text: string) => void): void {
  const parts: string[] = [];
  const emit = request.emit;
  const tapped = function (this: IncomingMessage, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data') {
      const chunk = args[0];
      parts.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '');
    } else if (event === 'end') {
      done(parts.join(''));
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  };
  Object.defineProperty(request, 'emit', { value: tapped, configurable: true, writable: true });
}

/** The body as text, and its size in bytes (counted from the chunks: the text need not be measured again). */
function readBody(request: IncomingMessage, done: (text: string, bytes: number) => void): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  // The emulator attaches its own 'data' listener in the same tick; both see every chunk.
  request.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    bytes += chunk.length;
  });
  request.on('end', () =>
    done((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, bytes)).toString('utf8'), bytes),
  );
}

/** Whether the local stack itself sent the request (its SQS client's user agent carries HARNESS_USER_AGENT). */
function fromHarness(request: IncomingMessage): boolean {
  const agents = [request.headers['user-agent'], request.headers['x-amz-user-agent']];
  return agents.some((agent) => typeof agent === 'string' && agent.includes(HARNESS_USER_AGENT));
}

/** Starts counting requests to the DynamoDB and SQS endpoints given (`http://127.0.0.1:<port>`). */
export function countAwsOperations(endpoints: Record<AwsService, string>): AwsOpCounter {
  const ports = new Map<number, AwsService>();
  for (const [service, url] of Object.entries(endpoints) as Array<[AwsService, string]>)
    ports.set(Number(new URL(url).port), service);
  let counts: Record<AwsService, AwsOpCounts> = { dynamodb: emptyCounts(), sqs: emptyCounts() };

  const onRequest = (message: unknown): void => {
    const parsed = ServerRequestMessage.safeParse(message);
    if (!parsed.success) return;
    const { request } = parsed.data;
    const service = ports.get(portOf(request) ?? -1);
    if (service === undefined) return;
    const target = request.headers['x-amz-target'];
    const op = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : 'unknown';
    const bucket = counts[service];
    if (fromHarness(request)) {
      add((bucket.harness ??= {}), op);
      return;
    }
    add(bucket.requests, op);
    if (service === 'sqs') {
      tapBody(request, (text) => {
        if (counts[service] !== bucket) return;
        const counted = sqsRequestCount(op, text);
        add(bucket.byItem, counted.key);
        if (counted.entries !== undefined) add((bucket.entries ??= {}), counted.key, counted.entries);
      });
      return;
    }
    readBody(request, (text, bytes) => {
      if (counts[service] !== bucket) return; // reset while the body was arriving: belongs to the previous phase
      const counted = dynamoItemCount(op, text);
      if (counted === undefined) return;
      if (DYNAMO_WRITES.has(op)) bucket.writeBytes += bytes;
      add(bucket.byItem, counted.key, counted.n);
      if (counted.leavesGsi1) add((bucket.gsi1Leaves ??= {}), counted.key, counted.n);
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
