import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoAdmissionOutbox } from '../../../lib/adapters/dynamodb/admission-outbox';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoRecoveryStore } from '../../../lib/adapters/dynamodb/recovery-store';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import { SqsDeadLetterQueue } from '../../../lib/adapters/sqs/sqs-dead-letter-queue';
import { SqsWorkQueue } from '../../../lib/adapters/sqs/sqs-work-queue';
import {
  PlacementMessageSchema,
  SyncMessageSchema,
  type PlacementMessage,
  type SyncMessage,
} from '../../../lib/api/messages';
import { ensureQueues, startLocalSqs, type LocalQueues, type LocalSqs } from '../../../lib/local/aws-services';
import type { Metrics } from '../../../lib/ports/telemetry';
import { DEFAULT_RECOVERY_SETTINGS, type RecoverySettings, type RecoverySweepDeps } from '../../../lib/recovery/deps';
import { DeletionGuard } from '../../../lib/recovery/deletion-guard';
import { makeSqsClient } from '../../../lib/runtime/aws';
import { QUEUES, type QueueDefinition, type QueueName } from '../../../lib/runtime/resources';
import { startSimServer, type SimServer } from '../../../lib/sim';
import { makeStatusReporter } from '../../../lib/sync/status/report-status';
import { memoryLog } from '../../../lib/observability/log';
import { SimConnector } from '../sync/sim-connector';
import { startSyncWorld, type SyncWorld } from '../sync/world';

/** The key Secrets' content hashes are made with in these tests (the local stack writes one per state directory). */
export const CONTENT_KEY = Buffer.from('recovery-world-content-key-0123456789abcdef', 'utf8');
export const WS = 'root:recovery';

/**
 * The recovery sweep's real adapters on dynalite (the sync world's table and stores), fauxqs (every queue with its
 * DLQ and redrive policy, as ensureQueues creates them for the local stack) and the simulator (a kcp and `east`).
 * The sweep's clock is the test's: retry and redrive backoff are decided on it, while SQS delays are real seconds.
 */
export interface RecoveryWorld {
  world: SyncWorld;
  sqs: SQSClient;
  queues: LocalQueues;
  kcp: SimServer;
  east: SimServer;
  kube: SimConnector;
  store: DynamoRecoveryStore;
  clock: { now: number };
  metrics: Array<{ name: string; labels?: Record<string, string>; value?: number }>;
  deps(settings?: Partial<RecoverySettings>): RecoverySweepDeps;
  /** Visible, in-flight (hidden) and delayed messages of a queue URL. */
  counts(url: string): Promise<{ visible: number; hidden: number; delayed: number }>;
  close(): Promise<void>;
}

export async function startRecoveryWorld(
  queueChanges: Partial<Record<QueueName, Partial<QueueDefinition>>> = {},
): Promise<RecoveryWorld> {
  const world = await startSyncWorld();
  const local: LocalSqs = await startLocalSqs();
  const sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: local.endpoint });
  const definitions = Object.fromEntries(
    (Object.keys(QUEUES) as QueueName[]).map((name) => [name, { ...QUEUES[name], ...queueChanges[name] }]),
  ) as Record<QueueName, QueueDefinition>;
  const queues = await ensureQueues(sqs, definitions);
  const kcp = await startSimServer({ name: 'kcp', mode: 'kcp' });
  kcp.createLogicalCluster(WS);
  const east = await startSimServer({ name: 'east', mode: 'cluster', workloads: { readyDelayMs: 50 } });
  const kube = new SimConnector(kcp, { east });
  const store = new DynamoRecoveryStore(world.doc, world.tableName);
  const statuses = new DynamoStatusStore({ doc: world.doc, tableName: world.tableName });
  const clock = { now: Date.parse('2026-01-01T12:00:00Z') };
  const metricsSeen: RecoveryWorld['metrics'] = [];
  const metrics: Metrics = {
    increment: (name, labels, value) => metricsSeen.push({ name, labels, value }),
    observe: (name, labels, value) => metricsSeen.push({ name, labels, value }),
    gauge: (name, labels, value) => metricsSeen.push({ name, labels, value }),
  };
  const log = memoryLog();
  const now = (): number => clock.now;
  return {
    world,
    sqs,
    queues,
    kcp,
    east,
    kube,
    store,
    clock,
    metrics: metricsSeen,
    deps: (settings = {}) => ({
      workspaces: [WS],
      inventory: new DynamoClusterInventory(world.doc, world.tableName),
      syncState: world.syncState,
      decisions: new DynamoDecisionStore(world.doc, world.tableName),
      statuses,
      store,
      guard: new DeletionGuard({ store, metrics, log, now }),
      kube,
      contentKey: async () => CONTENT_KEY,
      placementQueue: new SqsWorkQueue<PlacementMessage>({
        sqs,
        queueUrl: queues.placement.url,
        name: 'placement',
        schema: PlacementMessageSchema,
      }),
      syncQueue: new SqsWorkQueue<SyncMessage>({
        sqs,
        queueUrl: queues.sync.url,
        name: 'sync',
        schema: SyncMessageSchema,
      }),
      outbox: new DynamoAdmissionOutbox(world.doc, world.tableName, now),
      deadLetters: (Object.keys(queues) as QueueName[]).map(
        (name) => new SqsDeadLetterQueue(name, sqs, queues[name].dlqUrl, queues[name].url),
      ),
      status: makeStatusReporter({ kube, syncState: world.syncState, statusStore: statuses }),
      metrics,
      log,
      now,
      settings: { ...DEFAULT_RECOVERY_SETTINGS, ...settings },
    }),
    counts: async (url) => {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const a = out.Attributes ?? {};
      return {
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        hidden: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    },
    close: async () => {
      kube.close();
      sqs.destroy();
      await Promise.all([kcp.stop(), east.stop(), local.stop(), world.close()]);
    },
  };
}

/** Receives and deletes every message on the placement queue: their bodies as sent, each with its parsed message. */
export async function drainPlacement(
  w: Pick<RecoveryWorld, 'sqs' | 'queues'>,
): Promise<Array<{ body: string; message: PlacementMessage }>> {
  const drained: Array<{ body: string; message: PlacementMessage }> = [];
  for (;;) {
    const out = await w.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: w.queues.placement.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!out.Messages?.length) return drained;
    for (const m of out.Messages) {
      drained.push({ body: m.Body ?? '', message: PlacementMessageSchema.parse(JSON.parse(m.Body ?? '')) });
      await w.sqs.send(new DeleteMessageCommand({ QueueUrl: w.queues.placement.url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

/** Receives and deletes every message on the sync queue: `action:name:cluster:decisionVersion`, sorted. */
export async function drainSync(w: Pick<RecoveryWorld, 'sqs' | 'queues'>): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const got = await w.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: w.queues.sync.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!got.Messages?.length) return out.sort();
    for (const m of got.Messages) {
      const message = SyncMessageSchema.parse(JSON.parse(m.Body ?? ''));
      out.push(`${message.action}:${message.ref.name}:${message.cluster}:${message.decisionVersion}`);
      await w.sqs.send(new DeleteMessageCommand({ QueueUrl: w.queues.sync.url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

/** A SyncTarget mirror for the inventory (what placement writes when it sees the SyncTarget). */
export function mirror(name: string): Parameters<DynamoClusterInventory['putMirror']>[0] {
  return {
    workspace: WS,
    name,
    endpoint: `https://${name}.example`,
    credentialsRef: `secretRef:tmc/${name}`,
    labels: {},
    taints: [],
    unschedulable: false,
    hash: name,
    updatedAt: '2026-01-01T00:00:00Z',
  };
}
