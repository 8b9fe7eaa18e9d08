import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ensureTable, startLocalDynamo } from '../lib/local/aws-services';
import { threadCpuSnapshot } from './support/thread-cpu';

/**
 * dynalite's CPU per request with its expression memo (lib/local/dynalite-expression-cache.mjs) and without: the same
 * tmc-shaped mix (conditional puts on a generation, conditional updates, key-condition queries with a filter) against
 * a fresh dynalite thread each round, rounds alternating, CPU read from the thread's /proc stat.
 * `npx tsx bench/dynalite-expressions.ts [requests per round] [rounds]`.
 */
const TABLE = 'tmc-state';

async function round(expressionCache: boolean, requests: number): Promise<number> {
  const dynamo = await startLocalDynamo({ expressionCache });
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  try {
    await ensureTable(doc, TABLE);
    const cpuOf = (): number =>
      [...threadCpuSnapshot().threads.values()]
        .filter((t) => t.name === 'emu:dynamodb')
        .reduce((n, t) => n + t.cpuMs, 0);
    const before = cpuOf();
    for (let i = 0; i < requests; i += 3) {
      const pk = `OBJ#${i % 97}`;
      await doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk, sk: `SYNC#c${i % 5}`, generation: i, hash: `h${i}` },
          ConditionExpression: 'attribute_not_exists(pk) OR #g < :g',
          ExpressionAttributeNames: { '#g': 'generation' },
          ExpressionAttributeValues: { ':g': i },
        }),
      );
      await doc.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { pk, sk: 'STATUS' },
          UpdateExpression: 'SET #s = :s, #v = if_not_exists(#v, :zero) + :one',
          ConditionExpression: 'attribute_not_exists(#v) OR #v < :max',
          ExpressionAttributeNames: { '#s': 'summary', '#v': 'version' },
          ExpressionAttributeValues: { ':s': `s${i}`, ':zero': 0, ':one': 1, ':max': 1_000_000 },
        }),
      );
      await doc.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          FilterExpression: 'attribute_not_exists(expiresAt) OR expiresAt > :now',
          ExpressionAttributeValues: { ':pk': pk, ':p': 'SYNC#', ':now': i },
        }),
      );
    }
    return (cpuOf() - before) / requests;
  } finally {
    doc.destroy();
    await dynamo.stop();
  }
}

const requests = Number(process.argv[2] ?? 3000);
const rounds = Number(process.argv[3] ?? 3);
const results: Record<'off' | 'on', number[]> = { off: [], on: [] };
for (let r = 0; r < rounds; r += 1) {
  results.off.push(await round(false, requests));
  results.on.push(await round(true, requests));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(
  `dynalite CPU ms per request, ${requests} requests × ${rounds} rounds (median): memo off ${median(results.off).toFixed(3)}, on ${median(results.on).toFixed(3)} (${results.off.map((v) => v.toFixed(3)).join(' ')} | ${results.on.map((v) => v.toFixed(3)).join(' ')})\n`,
);
