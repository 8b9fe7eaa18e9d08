import type { SQSEvent } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoObjectSnapshotReader } from '../../../lib/adapters/dynamodb/object-snapshot-reader';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import { DynamoSyncStateStore } from '../../../lib/adapters/dynamodb/sync-state-store';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import type { SyncMessage } from '../../../lib/api/messages';
import { ensureTable, startLocalDynamo } from '../../../lib/local/aws-services';
import type { KubeConnector, KubeObject } from '../../../lib/ports/kube-client';
import type { MessageDeferrer } from '../../../lib/ports/message-deferrer';
import type { ObjectSnapshotReader } from '../../../lib/ports/object-snapshot';
import type { SyncRecord, SyncStateStore } from '../../../lib/ports/sync-state-store';
import type { Metrics } from '../../../lib/ports/telemetry';
import { TABLE } from '../../../lib/runtime/resources';
import type { SyncApplyDeps } from '../../../lib/sync/apply';
import { KeyedLock } from '../../../lib/sync/keyed-lock';
import { makeStatusReporter } from '../../../lib/sync/status/report-status';
import type { StatusUpDeps } from '../../../lib/sync/status/status-up';
import { memoryLog } from '../../../lib/observability/log';

/** The key Secret content hashes are made with in these tests (lib/runtime/content-key.ts in the functions). */
export const TEST_CONTENT_KEY = Buffer.from('sync-world-test-content-key-0123456789');

/** dynalite with the state table, the real Dynamo stores (writes counted), and a recorder for logs and metrics. */
export interface SyncWorld {
  doc: DynamoDBDocumentClient;
  tableName: string;
  syncState: SyncStateStore;
  /** The status reporter's one read of an object's partition, as the functions build it. */
  snapshot: ObjectSnapshotReader;
  syncPuts: SyncRecord[];
  logLines: Array<{ level: string; message: string; attributes: Record<string, unknown> }>;
  metrics: Array<{ name: string; labels?: Record<string, string>; value?: number }>;
  deferred: Array<{ receiptHandle: string; delaySeconds: number }>;
  /** Every DynamoDB request sent, by command name (`PutItemCommand`, `GetItemCommand`, …), in order. */
  dynamoRequests: string[];
  /** How many of dynamoRequests write (put, update, delete, batch or transactional write). */
  dynamoWrites(): number;
  applyDeps(kube: KubeConnector): SyncApplyDeps & { deferrer: MessageDeferrer };
  statusDeps(kube: KubeConnector): StatusUpDeps & { deferrer: MessageDeferrer };
  putDecision(
    ref: ObjectRef,
    decisionVersion: number,
    clusters: Array<{ name: string; replicas?: number; patch?: unknown[] }>,
    placement?: string,
    /** More attributes of the decision item (`replicaMode`). */
    extra?: Record<string, unknown>,
  ): Promise<void>;
  putCluster(workspace: string, name: string): Promise<void>;
  scanAll(): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

export async function startSyncWorld(): Promise<SyncWorld> {
  const dynamo = await startLocalDynamo();
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tableName = TABLE.baseName;
  await ensureTable(client, tableName);
  const dynamoRequests: string[] = [];
  // Counted below the document client so every store's requests are seen, whichever command it sends.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      dynamoRequests.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'countDynamoRequests' },
  );
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const real = new DynamoSyncStateStore({ doc, tableName });
  const syncPuts: SyncRecord[] = [];
  // Counts table writes made through the store: zero-write resyncs are asserted on this.
  const syncState: SyncStateStore = {
    get: (r, c) => real.get(r, c),
    listForObject: (r) => real.listForObject(r),
    listForCluster: (c, o) => real.listForCluster(c, o),
    knownClusters: () => real.knownClusters(),
    decision: (r) => real.decision(r),
    readMany: (k) => real.readMany(k),
    put: async (record) => {
      syncPuts.push(structuredClone(record));
      await real.put(record);
    },
  };
  const statusStore = new DynamoStatusStore({ doc, tableName });
  const snapshot = new DynamoObjectSnapshotReader({ doc, tableName });
  const logLines: SyncWorld['logLines'] = [];
  const metricsSeen: SyncWorld['metrics'] = [];
  const metrics: Metrics = {
    increment: (name, labels, value) => metricsSeen.push({ name, labels, value }),
    observe: (name, labels, value) => metricsSeen.push({ name, labels, value }),
    gauge: (name, labels, value) => metricsSeen.push({ name, labels, value }),
  };
  const deferred: SyncWorld['deferred'] = [];
  const deferrer: MessageDeferrer = {
    defer: async (receiptHandle, delaySeconds) => void deferred.push({ receiptHandle, delaySeconds }),
  };
  const log = memoryLog(logLines);
  return {
    doc,
    tableName,
    syncState,
    snapshot,
    syncPuts,
    logLines,
    metrics: metricsSeen,
    deferred,
    dynamoRequests,
    dynamoWrites: () => dynamoRequests.filter((c) => /^(Put|Update|Delete|BatchWrite|TransactWrite)/.test(c)).length,
    applyDeps: (kube) => ({
      kube,
      syncState,
      status: makeStatusReporter({ kube, snapshot }),
      metrics,
      log,
      namespaces: new Set(),
      locks: new KeyedLock(),
      deferrer,
      random: () => 0.5,
      contentKey: async () => TEST_CONTENT_KEY,
    }),
    statusDeps: (kube) => ({
      kube,
      syncState,
      statusStore,
      reporter: makeStatusReporter({ kube, snapshot }),
      metrics,
      log,
      deferrer,
    }),
    putDecision: async (ref, decisionVersion, clusters, placement, extra) => {
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: `OBJ#${objectKey(ref)}`,
            sk: 'DECISION',
            decisionVersion,
            clusters,
            generation: 1,
            ...(placement ? { placement } : {}),
            ...extra,
          },
        }),
      );
    },
    putCluster: async (workspace, name) => {
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: `CLUSTER#${name}`, sk: `META#${workspace}`, gsi1pk: 'CLUSTERS', gsi1sk: `${workspace}|${name}` },
        }),
      );
    },
    scanAll: async () => (await doc.send(new ScanCommand({ TableName: tableName }))).Items ?? [],
    close: async () => {
      client.destroy();
      await dynamo.stop();
    },
  };
}

/** DynamoDB requests by command name since `from` (an index into `world.dynamoRequests`). */
export function countsSince(world: SyncWorld, from: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of world.dynamoRequests.slice(from)) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

export function refOf(workspace: string, object: KubeObject, group: string, resource: string): ObjectRef {
  return {
    workspace,
    group,
    version: object.apiVersion.split('/').pop() ?? 'v1',
    resource,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name ?? '',
    uid: object.metadata.uid,
  };
}

export function syncMessage(
  ref: ObjectRef,
  cluster: string,
  decisionVersion: number,
  extra: Partial<SyncMessage> = {},
): SyncMessage {
  return {
    type: 'sync',
    ref,
    cluster,
    action: 'apply',
    decisionVersion,
    trace: { traceId: 't-1', enqueuedAt: new Date().toISOString() },
    ...extra,
  };
}

export function sqsEvent(bodies: unknown[], receiveCount = 1): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`,
      receiptHandle: `rh-${i}`,
      body: JSON.stringify(body),
      attributes: {
        ApproximateReceiveCount: String(receiveCount),
        SentTimestamp: '0',
        SenderId: 'x',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:tmc-sync',
      awsRegion: 'us-east-1',
    })),
  };
}
