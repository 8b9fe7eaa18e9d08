import { makeBatchedInvocationRecorder, type RecordInvocation } from '../health/record-invocation';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  PlacementMessageSchema,
  StatusMessageSchema,
  SyncMessageSchema,
  type PlacementMessage,
  type StatusMessage,
} from '../api/messages';
import { KubeConnectorImpl } from '../adapters/kube/kube-connector';
import { SecretsManagerSecretReader } from '../adapters/kube/secret-reader';
import { contentKeySource } from './content-key';
import { DynamoObjectSnapshotReader } from '../adapters/dynamodb/object-snapshot-reader';
import { DynamoSyncStateStore } from '../adapters/dynamodb/sync-state-store';
import { DynamoCircuitStore } from '../adapters/dynamodb/circuit-store';
import { DynamoHealthStore } from '../adapters/dynamodb/health-store';
import { SqsWorkQueue } from '../adapters/sqs/sqs-work-queue';
import { makeClusterFailureReporter } from '../health/report-cluster-failure';
import { CircuitBreaker } from '../errors/circuit-breaker';
import { SqsVisibilityDeferrer } from '../adapters/sqs/sqs-visibility-deferrer';
import type { MessageDeferrer } from '../ports/message-deferrer';
import type { ObjectSnapshotReader } from '../ports/object-snapshot';
import { syncOne, type SyncApplyDeps } from '../sync/apply';
import { BatchSyncState } from '../sync/batch-sync-state';
import { BatchEvents } from '../sync/batch-events';
import { KeyedLock } from '../sync/keyed-lock';
import { processSqsBatch, receiveCountOf } from '../sync/sqs-batch';
import { makeStatusReporter } from '../sync/status/report-status';
import { RefreshAfterBatch } from '../sync/status/refresh-after-batch';
import { scheduleReruns } from '../sync/status/batch-refresh';
import type { WorkQueue } from '../ports/work-queue';
import { fromPowertools, functionLogger } from './logger';
import { makeDynamoDocumentClient, makeSqsClient } from './aws';
import { makeSecretsManagerClient } from './secrets-client';
import { loadConfig, queueUrlOf, tableNameOf, type Environment } from './config';
import { QUEUES, SYNCER_FEED } from './resources';
import { z } from 'zod';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ApiGatewaySyncerFeed } from '../adapters/feed/api-gateway-syncer-feed';
import { DynamoSyncerConnectionStore } from '../adapters/dynamodb/syncer-connection-store';
import type { SyncerFeed } from '../ports/syncer-feed';
import type { Log } from '../observability/log';
import { makeFeedConnectionsClient } from './feed-client';
import type { TmcConfig } from './config';
import { createFunctionMetrics, type FunctionMetrics } from './metrics';
import { measureSqsBatch } from '../observability/invocation-metrics';
import { makeKcpEventRecorder } from '../sync/kcp-event-recorder';

export type SyncApplyHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** `status`: each invocation refreshes an object once, after its batch (RefreshAfterBatch). */
export interface SyncApplyHandlerDeps extends SyncApplyDeps {
  deferrer: MessageDeferrer;
  /** Lets a batch leave a refresh to the cluster's following status report (RefreshAfterBatch); without it, it never does. */
  statusSnapshot?: ObjectSnapshotReader;
  /** Counts invocations for component health (/health); none when omitted (tests of the logic alone). */
  recordInvocation?: RecordInvocation;
  /**
   * The status queue, for the re-runs of refreshes held back while other clusters' applies are on their way
   * (RefreshAfterBatch); without it every refresh writes at once.
   */
  rerunQueue?: WorkQueue<StatusMessage>;
}

/**
 * The handler over injected deps: tests and the local stack call this directly. Each invocation reads the sync state
 * its batch needs in one request (lib/sync/batch-sync-state.ts), for this invocation only, works on all of its
 * messages at once, and writes its status refreshes and Events together after them: Lambda bills the wall time, and
 * that is mostly rounds of requests waited for in sequence.
 */
export function makeSyncApplyHandler(deps: SyncApplyHandlerDeps): SyncApplyHandler {
  const schedule = deps.rerunQueue && scheduleReruns(deps.rerunQueue);
  return (event) => {
    const syncState = new BatchSyncState(deps.syncState);
    const events =
      deps.events &&
      new BatchEvents(deps.events, (err) => deps.log.debug('Could not record an Event', { error: String(err) }));
    const status = deps.status
      ? new RefreshAfterBatch(deps.status, deps.log, deps.statusSnapshot, schedule)
      : undefined;
    return measureSqsBatch(
      deps.metrics,
      'sync-apply',
      QUEUES.sync,
      event,
      async () => {
        const response = await processSqsBatch(
          event,
          SyncMessageSchema,
          async (message, record) => {
            const result = await syncOne(
              {
                ...deps,
                syncState,
                status,
                events,
                log: deps.log.child({ messageId: record.messageId, traceId: message.trace.traceId }),
              },
              message,
              receiveCountOf(record),
            );
            return result.result === 'deferred' ? { done: false, delaySeconds: result.delaySeconds } : { done: true };
          },
          {
            deferrer: deps.deferrer,
            log: deps.log,
            prefetch: (messages) => syncState.prefetch(messages, deps.namespaces),
            // The whole batch at once: its messages wait for no one but an earlier message of the same pair (the
            // pair's lock, taken in the batch's order) and shared dependencies (their own locks).
            concurrency: event.Records.length,
          },
        ).finally(() => syncState.close());
        await Promise.all([status?.flush(), events?.settle()]);
        return response;
      },
      deps.recordInvocation,
    );
  };
}

/** Builds sync-apply's deps from the environment, once per container. */
export function buildSyncApplyDeps(
  env: Environment = process.env,
): SyncApplyHandlerDeps & { metrics: FunctionMetrics } {
  const config = loadConfig(env, { table: true, queues: ['sync', 'placement', 'status'], kcp: true, contentKey: true });
  const doc = makeDynamoDocumentClient(config);
  const tableName = tableNameOf(config);
  const sqs = makeSqsClient(config);
  const logger = functionLogger('sync-apply');
  const log = fromPowertools(logger);
  const secrets = new SecretsManagerSecretReader(makeSecretsManagerClient(config));
  const kube = new KubeConnectorImpl({
    kcp: config.kcpKubeconfigSecretArn
      ? { secretArn: config.kcpKubeconfigSecretArn }
      : { path: config.kcpKubeconfig ?? '' },
    secrets,
  });
  const syncState = new DynamoSyncStateStore({ doc, tableName });
  const snapshot = new DynamoObjectSnapshotReader({ doc, tableName });
  return {
    kube,
    syncState,
    status: makeStatusReporter({ kube, snapshot }),
    statusSnapshot: snapshot,
    metrics: createFunctionMetrics('sync-apply'),
    log,
    namespaces: new Set(),
    locks: new KeyedLock(),
    contentKey: contentKeySource(config, secrets),
    events: makeKcpEventRecorder(kube, {
      onError: (err) => log.debug('Could not record an Event', { error: String(err) }),
    }),
    recordInvocation: makeBatchedInvocationRecorder(new DynamoHealthStore(doc, tableName), {
      onError: (err) => log.warn('Could not record the invocation', { error: String(err) }),
    }),
    breaker: new CircuitBreaker({ store: new DynamoCircuitStore(doc, tableName) }),
    reportClusterFailure: makeClusterFailureReporter({
      store: new DynamoHealthStore(doc, tableName),
      placementQueue: new SqsWorkQueue<PlacementMessage>({
        sqs,
        queueUrl: queueUrlOf(config, 'placement'),
        name: 'placement',
        schema: PlacementMessageSchema,
      }),
    }),
    syncers: syncerFeedOf(env, config, doc, tableName, log),
    rerunQueue: new SqsWorkQueue<StatusMessage>({
      sqs,
      queueUrl: queueUrlOf(config, 'status'),
      name: 'status',
      schema: StatusMessageSchema,
    }),
    deferrer: new SqsVisibilityDeferrer(sqs, queueUrlOf(config, 'sync'), (err) =>
      log.warn('Could not change message visibility', { error: String(err) }),
    ),
  };
}

/**
 * The pull-mode change feed's push side (the WebSocket API's @connections endpoint in the cloud, the local stack's
 * feed server locally), when the environment names one; without it syncers find their work by listing (on connect
 * and every resync).
 */
function syncerFeedOf(
  env: Environment,
  config: TmcConfig,
  doc: DynamoDBDocumentClient,
  tableName: string,
  log: Log,
): SyncerFeed | undefined {
  const endpoint = env[SYNCER_FEED.env.endpoint];
  if (endpoint === undefined || endpoint === '') return undefined;
  return new ApiGatewaySyncerFeed({
    connections: new DynamoSyncerConnectionStore(doc, tableName),
    client: makeFeedConnectionsClient(config, z.url().parse(endpoint)),
    log,
  });
}
