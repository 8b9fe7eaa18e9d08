import { channel } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import {
  countAwsOperations,
  dynamoItemCount,
  dynamoItemCountByParsing,
  dynamoItemCountByScanning,
  type DynamoItemCount,
} from '../../../bench/support/aws-op-counter';
import { ServerRequestMessage } from '../../../bench/support/server-request';
import { ensureTable } from '../../../lib/local/aws-services';

/**
 * The benchmark's DynamoDB counter reads the item kind off each request body with a scan instead of parsing it. Its
 * counts must stay those of parsing the whole body: checked here on bodies the real SDK sends to a real dynalite
 * (items shaped like tmc's: nested manifests, escaped strings, maps holding an `sk` of their own), and on hand-made
 * bodies the scan must leave to the parser.
 */

const TABLE = 'tmc-state';
const manifest = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    labels: { app: 'web' },
    annotations: { note: 'say "hi" \\ {not json} "sk":{"S":"FAKE#1"}' },
  },
  spec: {
    replicas: 3,
    template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27', args: ['--x=1', '{', '}'] }] } },
  },
};

describe('aws-op-counter on real SDK bodies', () => {
  let server: Server;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let endpoint: string;

  beforeAll(async () => {
    server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    await ensureTable(client, TABLE);
  });

  afterAll(async () => {
    client.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('counts every request as parsing its whole body would', async () => {
    const bodies: Array<{ op: string; text: string; bytes: number }> = [];
    const capture = (message: unknown): void => {
      const parsed = ServerRequestMessage.safeParse(message);
      if (!parsed.success || parsed.data.request.socket.localPort !== (server.address() as AddressInfo).port) return;
      const { request } = parsed.data;
      const target = String(request.headers['x-amz-target'] ?? '');
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks);
        bodies.push({ op: target.slice(target.indexOf('.') + 1), text: raw.toString('utf8'), bytes: raw.length });
      });
    };
    const start = channel('http.server.request.start');
    start.subscribe(capture);
    const counter = countAwsOperations({ dynamodb: endpoint, sqs: 'http://127.0.0.1:1' });
    try {
      // Attribute order varies: the scan must not rely on pk/sk coming first.
      await doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: { manifest, data: { sk: 'NESTED#1', list: [{ sk: 'NESTED#2' }] }, pk: 'OBJ#a', sk: 'SYNC#east' },
        }),
      );
      await doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: {
            pk: 'OBJ#a',
            sk: 'DECISION',
            clusters: [{ name: 'east', patch: [{ op: 'add', path: '/x', value: '"}' }] }],
          },
        }),
      );
      await doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk: 'OBJ#a', sk: 'TRACE#é ü "quoted" \\ #2', text: JSON.stringify(manifest) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      await doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk: 'CLUSTER#east', sk: 'META#root', gsi1pk: 'CLUSTERS', gsi1sk: 'root|east' },
        }),
      );
      await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'OBJ#a', sk: 'SYNC#east' }, ConsistentRead: true }));
      await doc.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { pk: 'OBJ#a', sk: 'STATUS#east' },
          UpdateExpression: 'SET #s = :s, #m = :m',
          ExpressionAttributeNames: { '#s': 'status', '#m': 'meta' },
          ExpressionAttributeValues: { ':s': { sk: 'NESTED#3', ready: true }, ':m': manifest },
        }),
      );
      await doc.send(new DeleteCommand({ TableName: TABLE, Key: { pk: 'OBJ#a', sk: 'SEEN#x' } }));
      await doc.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'OBJ#a' },
        }),
      );
      await doc.send(
        new QueryCommand({
          TableName: TABLE,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': 'CLUSTERS' },
        }),
      );
      await doc.send(new ScanCommand({ TableName: TABLE }));
      await doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [TABLE]: [
              { PutRequest: { Item: { pk: 'OBJ#b', sk: 'SYNC#west' } } },
              { DeleteRequest: { Key: { pk: 'OBJ#b', sk: 'SYNC#edge' } } },
            ],
          },
        }),
      );
      await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [TABLE]: {
              Keys: [
                { pk: 'OBJ#a', sk: 'SYNC#east' },
                { pk: 'OBJ#a', sk: 'DECISION' },
                { pk: 'OBJ#b', sk: 'SYNC#west' },
              ],
            },
          },
        }),
      );
      await new Promise((resolve) => setImmediate(resolve));

      const expected = { byItem: {} as Record<string, number>, writeBytes: 0 };
      const writes = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
      for (const { op, text, bytes } of bodies) {
        const parsed = dynamoItemCountByParsing(op, text);
        // The SDK's bodies are read by the scan itself (batches excepted), never left to the parser.
        const scanned = op.startsWith('Batch') ? parsed : dynamoItemCountByScanning(op, text);
        expect({ op, scanned, counted: dynamoItemCount(op, text) }).toEqual({ op, scanned: parsed, counted: parsed });
        if (parsed === undefined) continue;
        expected.byItem[parsed.key] = (expected.byItem[parsed.key] ?? 0) + parsed.n;
        if (writes.has(op)) expected.writeBytes += bytes;
      }
      const counts = counter.snapshot('dynamodb');
      expect(counts.byItem).toEqual(expected.byItem);
      expect(counts.writeBytes).toBe(expected.writeBytes);
      // The kinds the scan has to find, including past nested `sk`s and escaped strings.
      expect(counts.byItem).toMatchObject({
        'PutItem SYNC': 1,
        'PutItem DECISION': 1,
        'PutItem TRACE': 1,
        'PutItem META': 1,
        'GetItem SYNC': 1,
        'UpdateItem STATUS': 1,
        'DeleteItem SEEN': 1,
        'Query table': 1,
        'Query gsi1': 1,
        'Scan table': 1,
        'BatchWriteItem items': 2,
        'BatchGetItem items': 3,
      });
    } finally {
      counter.close();
      start.unsubscribe(capture);
    }
  });
});

describe('dynamoItemCount on hand-made bodies, the scan agreeing with the parser or leaving the body to it', () => {
  // One case a line: [case, operation, body, the byItem key counted (n is 1) or undefined when nothing is].
  // prettier-ignore
  const cases: Array<[string, string, string, string | undefined]> = [
    ['sk inside a map before the top-level one', 'PutItem', '{"Item":{"m":{"M":{"sk":{"S":"NESTED#1"}}},"sk":{"S":"SYNC#a"}},"TableName":"t"}', 'PutItem SYNC'],
    ['Key wins over Item', 'PutItem', '{"Item":{"sk":{"S":"ITEM#1"}},"Key":{"sk":{"S":"KEY#1"}}}', 'PutItem KEY'],
    ['Key without sk falls to Item', 'GetItem', '{"Key":{"pk":{"S":"p"}},"Item":{"sk":{"S":"ITEM#1"}}}', 'GetItem ITEM'],
    ['a repeated member: the last wins', 'GetItem', '{"Key":{"sk":{"S":"A#1"}},"Key":{"sk":{"S":"B#1"}}}', 'GetItem B'],
    ['whitespace between tokens', 'GetItem', ' { "Key" : { "pk" : { "S" : "p" } , "sk" : { "S" : "SYNC#x" } } } \n', 'GetItem SYNC'],
    ['an escaped sort key', 'GetItem', '{"Key":{"sk":{"S":"A\\u0023B#c"}}}', 'GetItem A'],
    ['an escaped member name', 'GetItem', '{"K\\u0065y":{"sk":{"S":"SYNC#x"}}}', 'GetItem SYNC'],
    ['a string with escaped quotes and braces', 'PutItem', '{"Item":{"x":{"S":"a\\"}{\\\\"},"sk":{"S":"STATUS#e"}}}', 'PutItem STATUS'],
    ['no sort key', 'DeleteItem', '{"Key":{"pk":{"S":"p"}}}', 'DeleteItem ?'],
    ["a function's health item", 'UpdateItem', '{"Key":{"pk":{"S":"COMPONENT#ingress"},"sk":{"S":"HEALTH"}}}', 'UpdateItem COMPONENT'],
    ["a cluster's health item", 'PutItem', '{"Item":{"pk":{"S":"CLUSTER#east"},"sk":{"S":"HEALTH"},"gsi1pk":{"S":"HEALTH"}}}', 'PutItem HEALTH'],
    ["Key's partition key with Key's sort key", 'UpdateItem', '{"Item":{"pk":{"S":"CLUSTER#e"}},"Key":{"pk":{"S":"COMPONENT#x"},"sk":{"S":"HEALTH"}}}', 'UpdateItem COMPONENT'],
    ['a partition key that is no string', 'GetItem', '{"Key":{"pk":{"S":1},"sk":{"S":"HEALTH"}}}', undefined],
    ['a numeric sort key', 'GetItem', '{"Key":{"sk":{"N":"1"}}}', 'GetItem ?'],
    ['an S that is no string', 'GetItem', '{"Key":{"sk":{"S":1}}}', undefined],
    ['an attribute that is no object', 'PutItem', '{"Item":{"pk":"p","sk":{"S":"SYNC#x"}}}', undefined],
    ['an IndexName that is no string', 'Query', '{"IndexName":1}', undefined],
    ['a Query with scalars around', 'Query', '{"Limit":10,"ScanIndexForward":false,"IndexName":"gsi1","X":null}', 'Query gsi1'],
    ['trailing text', 'GetItem', '{"Key":{"sk":{"S":"SYNC#x"}}} x', undefined],
    ['a cut-off body', 'PutItem', '{"Item":{"sk":{"S":"SYNC#x"}', undefined],
    ['not an object', 'GetItem', '[1,2]', undefined],
    ['empty', 'GetItem', '', undefined],
    ['an empty object', 'GetItem', '{}', 'GetItem ?'],
    // dynalite has no transactions (tmc uses none): the SDK's body shape, by hand.
    ['a transaction: its keys are not top-level', 'TransactWriteItems', '{"TransactItems":[{"Put":{"Item":{"pk":{"S":"OBJ#c"},"sk":{"S":"SYNC#east"}},"TableName":"t"}}]}', 'TransactWriteItems ?'],
  ];

  it.each(cases)('%s', (_case, op, text, key) => {
    const expected: DynamoItemCount | undefined = key === undefined ? undefined : { key, n: 1 };
    expect(dynamoItemCountByParsing(op, text)).toEqual(expected);
    expect(dynamoItemCount(op, text)).toEqual(expected);
    const scanned = dynamoItemCountByScanning(op, text);
    if (scanned !== 'parse') expect(scanned).toEqual(expected);
  });

  // A put of an ending record without gsi1's keys takes its item off gsi1 (DynamoDB bills the entry's delete).
  // prettier-ignore
  const leaves: Array<[string, string, string, boolean]> = [
    ['an ending record without index keys', 'PutItem', '{"Item":{"sk":{"S":"SYNC#a"},"expiresAt":{"N":"9"},"state":{"S":"deleted"}}}', true],
    ['a live record with index keys', 'PutItem', '{"Item":{"sk":{"S":"SYNC#a"},"gsi1pk":{"S":"CLUSTER#a"},"gsi1sk":{"S":"OBJ#x"}}}', false],
    ['an item never on gsi1 (no TTL, no keys)', 'PutItem', '{"Item":{"sk":{"S":"STATUS#a"},"rv":{"N":"3"}}}', false],
    ['expiring and still indexed', 'PutItem', '{"Item":{"sk":{"S":"HELD#a"},"expiresAt":{"N":"9"},"gsi1pk":{"S":"ADMISSIONS#HELD"}}}', false],
    ['the names only inside a string', 'PutItem', '{"Item":{"sk":{"S":"SYNC#a"},"m":{"S":"\\"expiresAt\\":1"}}}', false],
    ['the TTL attribute named in an expression (an update)', 'UpdateItem', '{"Key":{"sk":{"S":"STATUS#a"}},"ExpressionAttributeNames":{"#exp":"expiresAt"}}', false],
    ['the TTL attribute inside a nested map', 'PutItem', '{"Item":{"sk":{"S":"SYNC#a"},"m":{"M":{"expiresAt":{"N":"1"}}}}}', false],
  ];

  it.each(leaves)('%s: leaves gsi1 %s', (_case, op, text, leaving) => {
    const parsed = dynamoItemCountByParsing(op, text);
    expect(parsed?.leavesGsi1 === true).toBe(leaving);
    const scanned = dynamoItemCountByScanning(op, text);
    if (scanned !== 'parse') expect(scanned).toEqual(parsed);
    expect(dynamoItemCount(op, text)).toEqual(parsed);
  });
});
