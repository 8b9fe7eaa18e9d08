import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoStatusCredentialStore } from '../../../lib/adapters/dynamodb/status-credential-store';
import { STATE_SCHEMA_VERSION } from '../../../lib/adapters/dynamodb/schema-version';
import { DynamoSyncStateStore } from '../../../lib/adapters/dynamodb/sync-state-store';
import { ObjectRefSchema } from '../../../lib/api/object-ref';
import { StatusCredentialAuthenticator, statusCredentialDigest } from '../../../lib/auth/status-credentials';
import { ensureTable, startLocalDynamo, type LocalDynamo } from '../../../lib/local/aws-services';
import { SCORE_WEIGHTS, STABILITY_BONUS } from '../../../lib/placement/engine';
import type { StoredDecision } from '../../../lib/ports/decision-store';
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

  it('reads a decision of schema 2 (every field as it is) as before, writes its successor compactly', async () => {
    const decisions = new DynamoDecisionStore(doc, tableName);
    const api = { ...ref, name: 'api', uid: 'uid-api' };
    const v2: StoredDecision = {
      ref: api,
      decisionVersion: 1,
      generation: 1,
      resourceVersion: '10',
      uid: 'uid-api',
      contentHash: 'h',
      clusters: [
        { name: 'east', replicas: 2 },
        { name: 'west', replicas: 2 },
      ],
      scheduled: true,
      reason: 'Scheduled',
      message: 'Placed on east, west by Placement all; 2/3 clusters match (1 region not allowed)',
      placement: 'all',
      explanation: [
        {
          cluster: 'east',
          chosen: true,
          scores: { health: 0, affinity: 0, strategy: 50, headroom: 0, taints: 0, namespaceHash: 0, stability: 0 },
          total: 50,
        },
        { cluster: 'eu', chosen: false, rejectedBy: 'clusterConstraints.regions', detail: 'region eu', total: 0 },
        {
          cluster: 'west',
          chosen: true,
          scores: { health: 0, affinity: 0, strategy: 50, headroom: 0, taints: 0, namespaceHash: 0, stability: 0 },
          total: 50,
        },
      ],
      explanationOmitted: 0,
      weights: { ...SCORE_WEIGHTS, stabilityBonus: STABILITY_BONUS },
      diff: { added: ['east', 'west'], removed: [], changed: [], unchanged: [] },
      replicaMode: 'Duplicated',
      decidedAt: '2026-12-06T08:00:00.000Z',
      traceId: 't-1',
      sent: 'apply east, apply west',
      receivedAt: '2026-12-06T07:59:59.000Z',
      receivedReason: 'admission',
    };
    // As the previous release's store wrote it: the decision's fields as they are, its keys, rvNumber, schema 2.
    await plain.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...v2,
          pk: 'OBJ#root:team-a|apps|deployments|default|api',
          sk: 'DECISION',
          rvNumber: 10,
          gsi1pk: 'DECISIONS#root:team-a',
          gsi1sk: 'root:team-a|apps|deployments|default|api',
          schemaVersion: 2,
        },
      }),
    );
    expect(await decisions.get(api)).toEqual(v2);
    expect((await decisions.listByWorkspace('root:team-a')).decisions).toContainEqual(v2);
    expect(await new DynamoSyncStateStore({ doc, tableName }).decision(api)).toMatchObject({
      message: v2.message,
      clusters: v2.clusters,
    });

    const next: StoredDecision = {
      ...v2,
      decisionVersion: 2,
      generation: 2,
      resourceVersion: '11',
      diff: { added: [], removed: [], changed: [], unchanged: ['east', 'west'] },
    };
    await decisions.put(next);
    const raw = await rawItem('OBJ#root:team-a|apps|deployments|default|api', 'DECISION');
    expect(raw).toMatchObject({ schemaVersion: STATE_SCHEMA_VERSION, messageAround: expect.any(Array) });
    expect(raw).not.toHaveProperty('explanation');
    expect(await decisions.get(api)).toEqual(next);
  });

  it('refuses a decision a newer tmc wrote', async () => {
    const decisions = new DynamoDecisionStore(doc, tableName);
    const future = { ...ref, name: 'future', uid: 'uid-future' };
    await decisions.put({ ...(await decisions.get({ ...ref, name: 'api' }))!, ref: future, decisionVersion: 1 });
    await expect(decisions.get(future)).resolves.toMatchObject({ ref: future });
    const key = { pk: 'OBJ#root:team-a|apps|deployments|default|future', sk: 'DECISION' };
    await plain.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...(await rawItem(key.pk, key.sk)), schemaVersion: STATE_SCHEMA_VERSION + 1 },
      }),
    );
    await expect(decisions.get(future)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('newer than this tmc'),
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
