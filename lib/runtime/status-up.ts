import { makeBatchedInvocationRecorder, type RecordInvocation } from '../health/record-invocation';
import { DynamoHealthStore } from '../adapters/dynamodb/health-store';
import type { ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { StatusMessageSchema, type StatusMessage } from '../api/messages';
import { KubeConnectorImpl } from '../adapters/kube/kube-connector';
import { SecretsManagerSecretReader } from '../adapters/kube/secret-reader';
import { DynamoObjectSnapshotReader } from '../adapters/dynamodb/object-snapshot-reader';
import { DynamoStatusStore } from '../adapters/dynamodb/status-store';
import { DynamoRecoveryStore } from '../adapters/dynamodb/recovery-store';
import { DynamoSyncStateStore } from '../adapters/dynamodb/sync-state-store';
import { SqsVisibilityDeferrer } from '../adapters/sqs/sqs-visibility-deferrer';
import { SqsQueueDepths } from '../adapters/sqs/sqs-queue-depths';
import { holdsMessages } from '../metrics/rollup';
import { SqsWorkQueue } from '../adapters/sqs/sqs-work-queue';
import type { MessageDeferrer } from '../ports/message-deferrer';
import type { WorkQueue } from '../ports/work-queue';
import { processSqsBatch, receiveCountOf } from '../sync/sqs-batch';
import { BatchRefresh, scheduleReruns } from '../sync/status/batch-refresh';
import { makeStatusReporter } from '../sync/status/report-status';
import {
  BackstopMemo,
  reportClusterStatus,
  runStatusBackstop,
  type BackstopOptions,
  type BackstopSummary,
  type StatusUpDeps,
} from '../sync/status/status-up';
import { fromPowertools, functionLogger } from './logger';
import { makeDynamoDocumentClient, makeSqsClient } from './aws';
import { makeSecretsManagerClient } from './secrets-client';
import { loadConfig, numberFrom, queueUrlOf, tableNameOf, type Environment } from './config';
import { QUEUES } from './resources';
import { createFunctionMetrics, type FunctionMetrics } from './metrics';
import { measureInvocation, measureSqsBatch } from '../observability/invocation-metrics';

export type StatusUpEvent = SQSEvent | ScheduledEvent;
export type StatusUpHandler = (event: StatusUpEvent) => Promise<SQSBatchResponse | BackstopSummary>;

export interface StatusUpHandlerDeps extends StatusUpDeps {
  deferrer: MessageDeferrer;
  /** Counts invocations for component health (/health); none when omitted (tests of the logic alone). */
  recordInvocation?: RecordInvocation;
  /** How the scheduled backstop polls; every recent pair when omitted. */
  backstop?: BackstopOptions;
  /**
   * The status queue, for the re-runs of refreshes held back while other clusters' reports are on their way; without
   * it every refresh writes at once.
   */
  rerunQueue?: WorkQueue<StatusMessage>;
}

/**
 * The backstop leaves a pair to its status message for two of its periods (60 s): a report waits in the status queue
 * for seconds, or for most of a minute when the queue is busy; one still missing after that was lost.
 */
const BACKSTOP_GRACE_SECONDS = 120;
/** While the status queue holds messages, a pair applied this recently is left to its report (the backstop's bound). */
const BACKSTOP_QUEUED_MAX_SECONDS = 600;

function isSqsEvent(event: StatusUpEvent): event is SQSEvent {
  return Array.isArray((event as Partial<SQSEvent>).Records);
}

/** SQS batches of StatusMessages, or the `status-backstop` schedule (an EventBridge scheduled event). */
export function makeStatusUpHandler(deps: StatusUpHandlerDeps): StatusUpHandler {
  const schedule = deps.rerunQueue && scheduleReruns(deps.rerunQueue);
  return async (event) => {
    if (!isSqsEvent(event))
      return measureInvocation(
        deps.metrics,
        'status-up',
        () => runStatusBackstop(deps, deps.backstop),
        undefined,
        deps.recordInvocation,
      );
    // One refresh per object per batch, after every message of the batch stored its cluster's status; so all of a
    // batch's messages run at once (each is one DynamoDB put, or a downstream GET and a put).
    const batch = new BatchRefresh(deps.reporter, schedule);
    return measureSqsBatch(
      deps.metrics,
      'status-up',
      QUEUES.status,
      event,
      async () => {
        return processSqsBatch(
          event,
          StatusMessageSchema,
          async (message, record) => {
            const log = deps.log.child({ messageId: record.messageId, traceId: message.trace.traceId });
            const result = await batch.member(() =>
              reportClusterStatus({ ...deps, reporter: batch, log }, message, receiveCountOf(record)),
            );
            return result.result === 'deferred' ? { done: false, delaySeconds: result.delaySeconds } : { done: true };
          },
          { deferrer: deps.deferrer, log: deps.log, concurrency: event.Records.length },
        );
      },
      deps.recordInvocation,
    );
  };
}

/** Builds status-up's deps from the environment, once per container. */
export function buildStatusUpDeps(env: Environment = process.env): StatusUpHandlerDeps & { metrics: FunctionMetrics } {
  const config = loadConfig(env, { table: true, queues: ['status'], kcp: true });
  const doc = makeDynamoDocumentClient(config);
  const sqs = makeSqsClient(config);
  const tableName = tableNameOf(config);
  const log = fromPowertools(functionLogger('status-up'));
  const kube = new KubeConnectorImpl({
    kcp: config.kcpKubeconfigSecretArn
      ? { secretArn: config.kcpKubeconfigSecretArn }
      : { path: config.kcpKubeconfig ?? '' },
    secrets: new SecretsManagerSecretReader(makeSecretsManagerClient(config)),
  });
  const syncState = new DynamoSyncStateStore({ doc, tableName });
  const statusStore = new DynamoStatusStore({ doc, tableName });
  // GetQueueAttributes on the queue it consumes: granted with its event source mapping (grantConsumeMessages).
  const statusQueue = new SqsQueueDepths(sqs, [{ name: 'status', url: queueUrlOf(config, 'status') }]);
  return {
    recordInvocation: makeBatchedInvocationRecorder(new DynamoHealthStore(doc, tableName), {
      onError: (err) => log.warn('Could not record the invocation', { error: String(err) }),
    }),
    kube,
    syncState,
    statusStore,
    cursors: new DynamoRecoveryStore(doc, tableName),
    backstop: {
      graceSeconds: numberFrom(env, 'TMC_STATUS_BACKSTOP_GRACE_SECONDS', BACKSTOP_GRACE_SECONDS),
      queuedMaxSeconds: numberFrom(env, 'TMC_STATUS_BACKSTOP_QUEUED_MAX_SECONDS', BACKSTOP_QUEUED_MAX_SECONDS),
    },
    backstopMemo: new BackstopMemo(),
    statusQueueBusy: async () => (await statusQueue.queueDepths()).some(holdsMessages),
    rerunQueue: new SqsWorkQueue<StatusMessage>({
      sqs,
      queueUrl: queueUrlOf(config, 'status'),
      name: 'status',
      schema: StatusMessageSchema,
    }),
    reporter: makeStatusReporter({ kube, snapshot: new DynamoObjectSnapshotReader({ doc, tableName }) }),
    metrics: createFunctionMetrics('status-up'),
    log,
    deferrer: new SqsVisibilityDeferrer(sqs, queueUrlOf(config, 'status'), (err) =>
      log.warn('Could not change message visibility', { error: String(err) }),
    ),
  };
}
