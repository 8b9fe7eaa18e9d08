import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { DynamoStatusCredentialStore } from '../../../lib/adapters/dynamodb/status-credential-store';
import { STATE_SCHEMA_VERSION } from '../../../lib/adapters/dynamodb/schema-version';
import { DynamoSyncStateStore } from '../../../lib/adapters/dynamodb/sync-state-store';
import { ObjectRefSchema } from '../../../lib/api/object-ref';
import { StatusCredentialAuthenticator, statusCredentialDigest } from '../../../lib/auth/status-credentials';
import { ensureTable, startLocalDynamo, type LocalDynamo } from '../../../lib/local/aws-services';
import { makeDynamoDocumentClient } from '../../../lib/runtime/aws';
import { TABLE } from '../../../lib/runtime/resources';

const Fixture = z.object({ items: z.array(z.record(z.string(), z.unknown())) });
const ref = ObjectRefSchema.parse({
  workspace: 'root:team-a',
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'default',
  name: 'web',
  uid: 'uid-web',
});
const HOUR = 60 * 60_000;

// An upgrade keeps the table: the new code must read what the previous release wrote (a stored v1 state, written
// below with a plain client as the old code wrote it) and stamp its own writes with the current schema version.
describe('state schema upgrade from v1 (items written before schema versions)', () => {
  let dynamo: LocalDynamo;
  let plain: DynamoDBDocumentClient;
  let raw: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  const tableName = TABLE.baseName;
  const rawItem = async (pk: string, sk: string): Promise<Record<string, unknown> | undefined> =>
    (await plain.send(new GetCommand({ TableName: tableName, Key: { pk, sk } }))).Item;

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    raw = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensureTable(raw, tableName);
    plain = DynamoDBDocumentClient.from(raw);
    const fixture = Fixture.parse(JSON.parse(readFileSync(join(__dirname, 'fixtures/state-v1.json'), 'utf8')));
    for (const item of fixture.items) await plain.send(new PutCommand({ TableName: tableName, Item: item }));
    doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint });
  });
  afterAll(async () => {
    doc.destroy();
    raw.destroy();
    await dynamo.stop();
  });

  it('reads v1 decisions and sync items, and rewrites them stamped with the current version', async () => {
    const store = new DynamoSyncStateStore({ doc, tableName });
    expect(await store.decision(ref)).toMatchObject({
      decisionVersion: 3,
      clusters: [
        { name: 'east', replicas: 2 },
        { name: 'west', replicas: 1 },
      ],
    });
    const east = await store.get(ref, 'east');
    expect(east).toMatchObject({
      state: 'applied',
      appliedGeneration: 4,
      appliedHash: 'h-4',
      downstreamNamespace: 'kcp-abc',
    });
    expect(await store.get(ref, 'west')).toMatchObject({
      state: 'failed',
      lastError: { category: 'cluster-unavailable', statusCode: 503 },
    });
    expect(
      (await rawItem(`OBJ#${'root:team-a|apps|deployments|default|web'}`, 'SYNC#east'))?.schemaVersion,
    ).toBeUndefined();

    await store.put({
      ...(east ?? { ref, cluster: 'east', appliedGeneration: 0, decisionVersion: 3, state: 'applied', updatedAt: '' }),
      appliedGeneration: 5,
      appliedHash: 'h-5',
      desiredHash: 'h-5',
      updatedAt: '2026-12-06T08:00:00.000Z',
    });
    expect(await rawItem('OBJ#root:team-a|apps|deployments|default|web', 'SYNC#east')).toMatchObject({
      schemaVersion: STATE_SCHEMA_VERSION,
      appliedGeneration: 5,
    });
    expect(await store.get(ref, 'east')).toMatchObject({ appliedGeneration: 5, appliedHash: 'h-5' });
  });

  it('accepts both v1 status credentials until the next rotation, which starts a grace period for the one before', async () => {
    let now = Date.parse('2026-12-06T08:00:00.000Z');
    const store = new DynamoStatusCredentialStore(doc, tableName, { now: () => now, graceMs: HOUR });
    const auth = (): StatusCredentialAuthenticator => new StatusCredentialAuthenticator(store, 0, () => now);
    // v1 had no grace period: the credential before the newest is accepted until the next install.
    expect(await auth().authenticate('east', 'cred-current')).toBe(true);
    expect(await auth().authenticate('east', 'cred-previous')).toBe(true);

    await store.add('east', statusCredentialDigest('cred-next'));
    expect(await rawItem('STATUSCRED#east', 'STATUSCRED')).toMatchObject({
      schemaVersion: STATE_SCHEMA_VERSION,
      version: 3,
      retireAt: '2026-12-06T09:00:00.000Z',
    });
    expect(await auth().authenticate('east', 'cred-next')).toBe(true);
    expect(await auth().authenticate('east', 'cred-current')).toBe(true); // in its grace period
    expect(await auth().authenticate('east', 'cred-previous')).toBe(false); // two back: gone
    now += HOUR;
    expect(await auth().authenticate('east', 'cred-current')).toBe(false);
    expect(await auth().authenticate('east', 'cred-next')).toBe(true);
  });

  it('stamps updates too, whichever clauses they have', async () => {
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: 'COMPONENT#x', sk: 'HEALTH' },
        UpdateExpression: 'ADD invocations :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: 'COMPONENT#y', sk: 'HEALTH' },
        UpdateExpression: 'ADD invocations :one SET #at = :at REMOVE stale',
        ExpressionAttributeNames: { '#at': 'lastInvocationAt' },
        ExpressionAttributeValues: { ':one': 1, ':at': 'now' },
      }),
    );
    expect(await rawItem('COMPONENT#x', 'HEALTH')).toEqual({
      pk: 'COMPONENT#x',
      sk: 'HEALTH',
      invocations: 1,
      schemaVersion: STATE_SCHEMA_VERSION,
    });
    expect(await rawItem('COMPONENT#y', 'HEALTH')).toEqual({
      pk: 'COMPONENT#y',
      sk: 'HEALTH',
      invocations: 1,
      lastInvocationAt: 'now',
      schemaVersion: STATE_SCHEMA_VERSION,
    });
  });

  it('refuses an item a newer tmc wrote (a rollback) instead of guessing its meaning', async () => {
    await plain.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: 'STATUSCRED#future',
          sk: 'STATUSCRED',
          digests: [],
          version: 1,
          schemaVersion: STATE_SCHEMA_VERSION + 1,
        },
      }),
    );
    await expect(new DynamoStatusCredentialStore(doc, tableName).digests('future')).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('newer than this tmc'),
    });
  });
});
