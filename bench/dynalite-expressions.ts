import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ensureTable, startLocalDynamo } from '../lib/local/aws-services';
import { threadCpuSnapshot } from './support/thread-cpu';

/**
 * dynalite's CPU per request with its expression memo (lib/local/dynalite-expression-cache.mjs) and without, and with
 * its request-path shortcuts (lib/local/dynalite-request-path.mjs) on top: the same tmc-shaped mix (conditional puts
 * on a generation, conditional updates, key-condition queries with a filter, BETWEEN key conditions as tmc's snapshot
 * and trace reads send) against a fresh dynalite thread each round, rounds alternating, CPU read from the thread's
 * /proc stat. `npx tsx bench/dynalite-expressions.ts [requests per round] [rounds]`.
 */
const TABLE = 'tmc-state';

type Arm = 'off' | 'memo' | 'shortcuts';

async function round(arm: Arm, requests: number): Promise<number> {
  const dynamo = await startLocalDynamo({ expressionCache: arm !== 'off', requestShortcuts: arm === 'shortcuts' });
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
    for (let i = 0; i < requests; i += 4) {
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
      await doc.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :first AND :last',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: { ':pk': pk, ':first': `SYNC#c${i % 3}`, ':last': 'SYNC#c~' },
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
const results: Record<Arm, number[]> = { off: [], memo: [], shortcuts: [] };
for (let r = 0; r < rounds; r += 1)
  for (const arm of ['off', 'memo', 'shortcuts'] as const) results[arm].push(await round(arm, requests));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(
  `dynalite CPU ms per request, ${requests} requests × ${rounds} rounds (median): memo off ${median(results.off).toFixed(3)}, memo on ${median(results.memo).toFixed(3)}, memo and shortcuts on ${median(results.shortcuts).toFixed(3)} (${(['off', 'memo', 'shortcuts'] as const).map((arm) => results[arm].map((v) => v.toFixed(3)).join(' ')).join(' | ')})\n`,
);
