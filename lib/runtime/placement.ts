import { makeBatchedInvocationRecorder, type RecordInvocation } from '../health/record-invocation';
import { DynamoHealthStore } from '../adapters/dynamodb/health-store';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoSyncStateStore } from '../adapters/dynamodb/sync-state-store';
import { DynamoRecoveryStore } from '../adapters/dynamodb/recovery-store';
import { DeletionGuard } from '../recovery/deletion-guard';
import { recoverySettingsFrom } from './recovery-sweep';
import { PlacementMessageSchema, SyncMessageSchema, type PlacementMessage, type SyncMessage } from '../api/messages';
import { DynamoClusterInventory } from '../adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../adapters/dynamodb/decision-store';
import { makeKcpEventRecorder } from '../sync/kcp-event-recorder';
import { KubeConnectorImpl } from '../adapters/kube/kube-connector';
import { SecretsManagerSecretReader } from '../adapters/kube/secret-reader';
import { contentKeySource } from './content-key';
import { SqsWorkQueue } from '../adapters/sqs/sqs-work-queue';
import { makePolicySource } from '../placement/policy-source';
import { BatchDecisions, BatchInventory } from '../placement/batch-reads';
import { InvocationCache } from '../ports/invocation-cache';
import { GatheredSends, type Undelivered } from '../placement/gathered-sends';
import { asTmcError } from '../errors/tmc-error';
import { describeRef, gvrKey } from '../api/object-ref';
import { backoffSeconds, type BackoffPolicy } from '../errors/backoff';
import {
  isWorkloadRef,
  reconcilePlacement,
  type NamespacePlacement,
  type PlacementDeps,
  type ReconcileOutcome,
} from '../placement/reconcile';
import type { Log } from '../observability/log';
import { noDeferral, type MessageDeferrer } from '../ports/message-deferrer';
import { SqsVisibilityDeferrer } from '../adapters/sqs/sqs-visibility-deferrer';
import { processSqsBatch, receiveCountOf } from '../sync/sqs-batch';
import { fromPowertools, functionLogger } from './logger';
import { makeDynamoDocumentClient, makeSqsClient } from './aws';
import { makeSecretsManagerClient } from './secrets-client';
import { loadConfig, queueUrlOf, tableNameOf, type Environment } from './config';
import { QUEUES } from './resources';
import { createFunctionMetrics, type FunctionMetrics } from './metrics';
import { measureSqsBatch } from '../observability/invocation-metrics';
import { observedQueue } from '../observability/counted-queue';
import { DynamoObjectSnapshotReader } from '../adapters/dynamodb/object-snapshot-reader';
import { makeStatusReporter } from '../sync/status/report-status';

export type PlacementHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export interface PlacementHandlerDeps extends PlacementDeps {
  /** Hides a message to retry shortly (kcp does not serve the object yet, or failed transiently); the queue's timeout when omitted. */
  deferrer?: MessageDeferrer;
  /** Counts invocations for component health (/health); none when omitted (tests of the logic alone). */
  recordInvocation?: RecordInvocation;
}

/**
 * The placement handler over injected deps: tests and the local stack call this directly. Each invocation reads its
 * batch's decisions in one request, each workspace's clusters once (lib/placement/batch-reads.ts) and places each
 * namespace once; all three live for this invocation only.
 */
export function makePlacementHandler(deps: PlacementHandlerDeps): PlacementHandler {
  return (event) => {
    const decisions = new BatchDecisions(deps.decisions);
    const inventory = new BatchInventory(deps.inventory);
    const namespacePlacements = new InvocationCache<NamespacePlacement | undefined>();
    const syncSends = new GatheredSends(deps.syncQueue);
    return measureSqsBatch(
      deps.metrics,
      'placement',
      QUEUES.placement,
      event,
      () =>
        processSqsBatch(
          event,
          PlacementMessageSchema,
          async (message, record) => {
            const started = performance.now();
            const syncQueue = syncSends.begin(record.messageId);
            const receiveCount = receiveCountOf(record);
            const log = deps.log.child({ messageId: record.messageId });
            const outcome = await reconcilePlacement(
              { ...deps, decisions, inventory, namespacePlacements, syncQueue, log },
              message,
              receiveCount,
            )
              .catch((err: unknown) => deferTransient(err, receiveCount, log))
              .catch((err: unknown) => {
                if (receiveCount >= QUEUES.placement.maxReceiveCount)
                  logDeadLettered(log, message, receiveCount, { error: err });
                throw err;
              })
              .finally(() => syncSends.end(record.messageId));
            if (outcome.result === 'pending' && receiveCount >= QUEUES.placement.maxReceiveCount)
              logDeadLettered(log, message, receiveCount, { delaySeconds: outcome.delaySeconds });
            // Read, decide, record and send: what an operator waits for, by how it ended (docs/metrics.md).
            deps.metrics.observe(
              'tmc_placement_duration_seconds',
              { result: outcome.result },
              (performance.now() - started) / 1000,
            );
            return outcome.result === 'pending' ? { done: false, delaySeconds: outcome.delaySeconds } : { done: true };
          },
          {
            deferrer: deps.deferrer ?? noDeferral,
            log: deps.log,
            prefetch: (messages) => prefetch(decisions, inventory, messages),
          },
        )
          .then(async (response) => failUndelivered(response, await syncSends.flush(), deps.log))
          .finally(() => decisions.close()),
      deps.recordInvocation,
    );
  };
}

/**
 * Retries of a message whose kcp reads failed transiently (429, 5xx, unreachable): seconds apart rather than the
 * queue's visibility timeout (6 minutes); four retries of 10–10, 10–20, 10–40 and 10–80 s before the DLQ, which the
 * recovery sweep redrives.
 */
export const PLACEMENT_RETRY: BackoffPolicy = { baseSeconds: 10, capSeconds: 300 };

/**
 * A transient failure of a dependency is deferred by backoff (Retry-After honoured). Anything else, a bug (`internal`)
 * included, fails as before and comes back after the visibility timeout, its error logged.
 */
function deferTransient(err: unknown, receiveCount: number, log: Log): ReconcileOutcome {
  const error = asTmcError(err);
  if (error.category === 'internal' || (error.strategy !== 'retry-backoff' && error.strategy !== 'open-circuit'))
    throw err;
  // At least the base each time: a throttle of seconds must not use up the deliveries before the DLQ.
  const delaySeconds = backoffSeconds(receiveCount, {
    policy: PLACEMENT_RETRY,
    retryAfterSeconds: error.retryAfterSeconds,
    atLeastBase: true,
  });
  log.warn('Placement deferred: kcp failed transiently', { error: error.toJSON(), delaySeconds, receiveCount });
  return { result: 'pending', writes: 0, messages: 0, delaySeconds };
}

/**
 * A message that is not done on its last delivery goes to the DLQ (SQS's redrive, then the recovery sweep's): said
 * once, with why, so each dead letter can be traced to its cause. Messages other consumers received too (a duplicate
 * delivery) may reach the DLQ without placement failing their last delivery; this log names only placement's own.
 */
function logDeadLettered(
  log: Log,
  message: PlacementMessage,
  receiveCount: number,
  why: { delaySeconds: number } | { error: unknown },
): void {
  const ref = message.ref;
  log.warn(`The placement message of ${describeRef(ref)} goes to the DLQ: not done on its last delivery`, {
    workspace: ref.workspace,
    gvr: gvrKey(ref),
    namespace: ref.namespace,
    name: ref.name,
    reason: message.reason,
    receiveCount,
    ...('error' in why ? { error: asTmcError(why.error).toJSON() } : { pendingSeconds: why.delaySeconds }),
  });
}

/**
 * What the batch's messages will read, in parallel before the first runs: their decisions (one BatchGetItem) and the
 * clusters of the workspaces whose objects may be placed (a delete places nothing, so it lists none).
 */
async function prefetch(
  decisions: BatchDecisions,
  inventory: BatchInventory,
  messages: readonly PlacementMessage[],
): Promise<void> {
  const placing = messages.filter((m) => isWorkloadRef(m.ref) && m.reason !== 'delete').map((m) => m.ref.workspace);
  await Promise.all([decisions.prefetch(messages, isWorkloadRef), inventory.prefetch(placing)]);
}

/** A placement message whose sync messages did not all go out is retried (its retry resends them), not deleted. */
function failUndelivered(
  response: SQSBatchResponse,
  undelivered: ReadonlyMap<string, Undelivered>,
  log: PlacementDeps['log'],
): SQSBatchResponse {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  for (const [messageId, { object, error }] of undelivered) {
    log.error(`Could not send the sync messages of ${object}; its placement message is retried`, {
      messageId,
      error: asTmcError(error).toJSON(),
    });
    if (!failed.has(messageId)) response.batchItemFailures.push({ itemIdentifier: messageId });
  }
  return response;
}

/** Builds placement's deps from the environment, once per container. */
export function buildPlacementDeps(
  env: Environment = process.env,
): PlacementHandlerDeps & { metrics: FunctionMetrics } {
  const config = loadConfig(env, { table: true, queues: ['placement', 'sync'], kcp: true, contentKey: true });
  const doc = makeDynamoDocumentClient(config);
  const sqs = makeSqsClient(config);
  const tableName = tableNameOf(config);
  const log = fromPowertools(functionLogger('placement'));
  const secrets = new SecretsManagerSecretReader(makeSecretsManagerClient(config));
  const kube = new KubeConnectorImpl({
    kcp: config.kcpKubeconfigSecretArn
      ? { secretArn: config.kcpKubeconfigSecretArn }
      : { path: config.kcpKubeconfig ?? '' },
    secrets,
  });
  const metrics = createFunctionMetrics('placement');
  const recovery = new DynamoRecoveryStore(doc, tableName);
  const guard = new DeletionGuard({
    store: recovery,
    metrics,
    log,
    now: Date.now,
    settings: recoverySettingsFrom(env).guard,
  });
  return {
    kube,
    decisions: new DynamoDecisionStore(doc, tableName),
    inventory: new DynamoClusterInventory(doc, tableName),
    policies: makePolicySource(kube, log),
    syncQueue: observedQueue(
      new SqsWorkQueue<SyncMessage>({
        sqs,
        queueUrl: queueUrlOf(config, 'sync'),
        name: 'sync',
        schema: SyncMessageSchema,
      }),
      metrics,
    ),
    placementQueue: observedQueue(
      new SqsWorkQueue<PlacementMessage>({
        sqs,
        queueUrl: queueUrlOf(config, 'placement'),
        name: 'placement',
        schema: PlacementMessageSchema,
      }),
      metrics,
    ),
    log,
    metrics,
    now: Date.now,
    contentKey: contentKeySource(config, secrets),
    evictions: recovery,
    status: makeStatusReporter({ kube, snapshot: new DynamoObjectSnapshotReader({ doc, tableName }) }),
    events: makeKcpEventRecorder(kube, {
      onError: (err) => log.debug('Could not record an Event', { error: String(err) }),
    }),
    // One guard, one set of counters: vanished objects and decisions' removals pass the same gate.
    deletionGuard: guard,
    removalGuard: guard,
    copies: new DynamoSyncStateStore({ doc, tableName }),
    recordInvocation: makeBatchedInvocationRecorder(new DynamoHealthStore(doc, tableName), {
      onError: (err) => log.warn('Could not record the invocation', { error: String(err) }),
    }),
    deferrer: new SqsVisibilityDeferrer(sqs, queueUrlOf(config, 'placement'), (err) =>
      log.warn('Could not change message visibility', { error: String(err) }),
    ),
  };
}
