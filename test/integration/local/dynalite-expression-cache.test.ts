import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ensureTable, startLocalDynamo } from '../../../lib/local/aws-services';
import { findProjectRoot } from '../../../lib/local/paths';

/**
 * dynalite's expression memo (lib/local/dynalite-expression-cache.mjs) and its request-path shortcuts
 * (lib/local/dynalite-request-path.mjs: native CRC32, the table description kept decoded, BETWEEN memoized): the same
 * sequence of requests, with the same expressions and different values, answers exactly alike with them and without,
 * and the memo and the cache are hit. The sequence repeats each expression with values that flip a condition's
 * outcome, so a template that kept a previous request's values would answer differently.
 */

const TABLE = 'tmc-state';
const Stats = z.object({ hits: z.number(), misses: z.number() });

type Outcome = { ok: true; value: unknown } | { ok: false; name: string; message: string };

async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    const value = await run();
    // Request ids and such differ per server; only the data is compared.
    return {
      ok: true,
      value: z
        .object({ Item: z.unknown().optional(), Items: z.unknown().optional(), Attributes: z.unknown().optional() })
        .loose()
        .transform(({ Item, Items, Attributes }) => ({ Item, Items, Attributes }))
        .parse(value),
    };
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return { ok: false, name: err.name, message: err.message };
  }
}

/** Requests whose answers depend on each request's own values, and a few that dynalite rejects. */
async function script(doc: DynamoDBDocumentClient): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const put = (sk: string, generation: number): Promise<unknown> =>
    doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: 'OBJ#a', sk, generation, gsi1pk: 'C#east', gsi1sk: sk },
        ConditionExpression: 'attribute_not_exists(pk) OR #g < :g',
        ExpressionAttributeNames: { '#g': 'generation' },
        ExpressionAttributeValues: { ':g': generation },
      }),
    );
  for (const [sk, generation] of [
    ['SYNC#east', 3],
    ['SYNC#east', 2],
    ['SYNC#east', 5],
    ['SYNC#west', 1],
    ['SYNC#west', 1],
    ['SYNC#west', 9],
  ] as const)
    out.push(await outcome(() => put(sk, generation)));
  const bump = (by: number, max: number): Promise<unknown> =>
    doc.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { pk: 'OBJ#a', sk: 'SYNC#east' },
        UpdateExpression: 'SET #g = #g + :by, note = :note',
        ConditionExpression: '#g < :max',
        ExpressionAttributeNames: { '#g': 'generation' },
        ExpressionAttributeValues: { ':by': by, ':max': max, ':note': `by ${by}` },
        ReturnValues: 'ALL_NEW',
      }),
    );
  for (const [by, max] of [
    [1, 10],
    [2, 10],
    [5, 7],
    [1, 100],
  ] as const)
    out.push(await outcome(() => bump(by, max)));
  // The same expression with a value of another type: a different template, and a type error for a string.
  out.push(
    await outcome(() =>
      doc.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { pk: 'OBJ#a', sk: 'SYNC#east' },
          UpdateExpression: 'SET #g = #g + :by, note = :note',
          ConditionExpression: '#g < :max',
          ExpressionAttributeNames: { '#g': 'generation' },
          ExpressionAttributeValues: { ':by': 'x', ':max': 100, ':note': 'n' },
        }),
      ),
    ),
  );
  const query = (prefix: string, min: number): Promise<unknown> =>
    doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'generation >= :min',
        ProjectionExpression: 'sk, generation',
        ExpressionAttributeValues: { ':pk': 'OBJ#a', ':prefix': prefix, ':min': min },
      }),
    );
  for (const [prefix, min] of [
    ['SYNC#', 0],
    ['SYNC#w', 0],
    ['SYNC#', 10],
    ['SYNC#e', 11],
  ] as const)
    out.push(await outcome(() => query(prefix, min)));
  // BETWEEN compares its bounds while parsing: a memoized tree must not hide reversed bounds' error.
  for (const [low, high] of [
    [1, 20],
    [20, 1],
    [1, 20],
    [1, 20],
    [3, 3],
    [9, 2],
    [1, 1],
  ])
    out.push(
      await outcome(() =>
        doc.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
            ExpressionAttributeValues: { ':pk': 'OBJ#a', ':low': `SYNC#${low}`, ':high': `SYNC#${high}` },
          }),
        ),
      ),
    );
  // A value the expression does not use, a name it does not define, a syntax error: each rejected alike, twice.
  for (let i = 0; i < 2; i += 1) {
    out.push(
      await outcome(() =>
        doc.send(
          new GetCommand({
            TableName: TABLE,
            Key: { pk: 'OBJ#a', sk: 'SYNC#east' },
            ProjectionExpression: '#g',
            ExpressionAttributeNames: { '#g': 'generation', '#unused': 'x' },
          }),
        ),
      ),
    );
    out.push(
      await outcome(() =>
        put('SYNC#x', 1 + i).catch(() =>
          doc.send(
            new PutCommand({
              TableName: TABLE,
              Item: { pk: 'OBJ#a', sk: 'SYNC#y' },
              ConditionExpression: '#nope < :g',
              ExpressionAttributeValues: { ':g': 1 },
            }),
          ),
        ),
      ),
    );
    out.push(
      await outcome(() =>
        doc.send(
          new PutCommand({
            TableName: TABLE,
            Item: { pk: 'OBJ#a', sk: 'SYNC#z' },
            ConditionExpression: 'generation <',
            ExpressionAttributeValues: { ':g': 1 },
          }),
        ),
      ),
    );
  }
  // A filter's BETWEEN on numbers (bounds compared as numbers, not strings) and of two types.
  for (const [low, high] of [
    [2, 10],
    [10, 2],
    [2, 10],
    [9, 10],
    [2, '10'],
  ] as const)
    out.push(
      await outcome(() =>
        doc.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'pk = :pk',
            FilterExpression: 'generation BETWEEN :low AND :high',
            ExpressionAttributeValues: { ':pk': 'OBJ#a', ':low': low, ':high': high },
          }),
        ),
      ),
    );
  out.push(await outcome(() => doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'OBJ#a', sk: 'SYNC#east' } }))));
  // A table that does not exist (never cached), then one created mid-script: found once it exists.
  out.push(await outcome(() => doc.send(new GetCommand({ TableName: 'tmc-other', Key: { pk: 'a', sk: 'b' } }))));
  await ensureTable(doc, 'tmc-other');
  out.push(await outcome(() => doc.send(new PutCommand({ TableName: 'tmc-other', Item: { pk: 'a', sk: 'b' } }))));
  out.push(await outcome(() => doc.send(new GetCommand({ TableName: 'tmc-other', Key: { pk: 'a', sk: 'b' } }))));
  return out;
}

/**
 * A GetItem sent by hand, so the answer's x-amz-crc32 header is seen (the SDK does not check it): the body, and
 * whether the header is the CRC-32 of the body's bytes. The item carries non-ASCII text: the CRC is of UTF-8.
 */
async function rawGetItem(endpoint: string): Promise<{ status: number; body: unknown; crcMatches: boolean }> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': 'DynamoDB_20120810.GetItem',
      'X-Amz-Date': '20260101T000000Z',
      Authorization:
        'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify({ TableName: TABLE, Key: { pk: { S: 'OBJ#a' }, sk: { S: 'SYNC#é' } } }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: JSON.parse(text) as unknown,
    crcMatches: Number(res.headers.get('x-amz-crc32')) === crc32(text),
  };
}

async function runWith(cache: 'on' | 'off'): Promise<{
  outcomes: Outcome[];
  raw: Awaited<ReturnType<typeof rawGetItem>>;
  stats: z.infer<typeof Stats>;
  tableStats: z.infer<typeof Stats>;
}> {
  const dynamo = await startLocalDynamo({ expressionCache: cache === 'on', requestShortcuts: cache === 'on' });
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    }),
  );
  try {
    await ensureTable(doc, TABLE);
    const outcomes = await script(doc);
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'OBJ#a', sk: 'SYNC#é', note: 'ünïcödé ✓ 雪' } }));
    const raw = await rawGetItem(dynamo.endpoint);
    const counter = await dynamo.thread.load(
      join(findProjectRoot(), 'lib', 'local', 'dynalite-expression-cache.mjs'),
      'expressionCacheStats',
    );
    const tableCounter = await dynamo.thread.load(
      join(findProjectRoot(), 'lib', 'local', 'dynalite-request-path.mjs'),
      'tableCacheStats',
    );
    return {
      outcomes,
      raw,
      stats: Stats.parse(await counter.call('snapshot')),
      tableStats: Stats.parse(await tableCounter.call('snapshot')),
    };
  } finally {
    doc.destroy();
    await dynamo.stop();
  }
}

it('answers every request as dynalite does without the memo, and hits the memo for repeated expressions', async () => {
  const off = await runWith('off');
  const on = await runWith('on');
  expect(on.outcomes).toEqual(off.outcomes);
  expect(on.raw).toEqual(off.raw);
  expect(off.raw).toMatchObject({ status: 200, crcMatches: true });
  // Reversed BETWEEN bounds are an error with the memo as without it (the parser's check, not a stale template).
  const oks = (outcomes: Outcome[]): boolean[] => outcomes.map((o) => o.ok);
  expect(oks(off.outcomes.slice(-22, -15))).toEqual([true, false, true, true, true, false, true]);
  expect(oks(off.outcomes.slice(-9, -4))).toEqual([true, false, true, true, false]);
  // The script's answers are the ones that prove values are the request's own: a stale template would flip these.
  expect(off.outcomes.slice(0, 6).map((o) => o.ok)).toEqual([true, false, true, true, false, true]);
  expect(off.stats).toEqual({ hits: 0, misses: 0 });
  expect(on.stats.hits).toBeGreaterThan(10);
  expect(on.stats.misses).toBeGreaterThan(0);
  expect(off.tableStats).toEqual({ hits: 0, misses: 0 });
  expect(on.tableStats.hits).toBeGreaterThan(20);
}, 60_000);
