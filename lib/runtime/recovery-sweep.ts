import { DynamoAdmissionOutbox } from '../adapters/dynamodb/admission-outbox';
import { PlacementMessageSchema, SyncMessageSchema, type PlacementMessage, type SyncMessage } from '../api/messages';
import { DynamoClusterInventory } from '../adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../adapters/dynamodb/decision-store';
import { DynamoHealthStore } from '../adapters/dynamodb/health-store';
import { DynamoObjectSnapshotReader } from '../adapters/dynamodb/object-snapshot-reader';
import { DynamoRecoveryStore } from '../adapters/dynamodb/recovery-store';
import { DynamoStatusStore } from '../adapters/dynamodb/status-store';
import { DynamoSyncStateStore } from '../adapters/dynamodb/sync-state-store';
import { KubeConnectorImpl } from '../adapters/kube/kube-connector';
import { SecretsManagerSecretReader } from '../adapters/kube/secret-reader';
import { SqsDeadLetterQueue } from '../adapters/sqs/sqs-dead-letter-queue';
import { SqsQueueDepths } from '../adapters/sqs/sqs-queue-depths';
import { SqsWorkQueue } from '../adapters/sqs/sqs-work-queue';
import { parseWorkspaces } from '../health/probe-clusters';
import { makeInvocationRecorder, type RecordInvocation } from '../health/record-invocation';
import { observedQueue } from '../observability/counted-queue';
import { measureInvocation } from '../observability/invocation-metrics';
import {
  DEFAULT_RECOVERY_SETTINGS,
  type RecoverySettings,
  type RecoverySweepDeps,
  type RecoverySweepReport,
} from '../recovery/deps';
import { DeletionGuard } from '../recovery/deletion-guard';
import { DEFAULT_GUARD, type GuardSettings } from '../recovery/rules';
import { runRecoverySweep } from '../recovery/sweep';
import { makeStatusReporter } from '../sync/status/report-status';
import { fromPowertools, functionLogger } from './logger';
import { makeDynamoDocumentClient, makeSqsClient } from './aws';
import { makeSecretsManagerClient } from './secrets-client';
import { contentKeySource } from './content-key';
import { loadConfig, numberFrom, queueUrlOf, tableNameOf, type Environment } from './config';
import { createFunctionMetrics, type FunctionMetrics } from './metrics';
import { QUEUES, type QueueName } from './resources';

export type RecoverySweepHandler = () => Promise<RecoverySweepReport>;

export interface RecoverySweepHandlerDeps extends RecoverySweepDeps {
  recordInvocation: RecordInvocation;
}

/** The handler over injected deps. A run fails (for component health) only when part of the sweep itself failed. */
export function makeRecoverySweepHandler(deps: RecoverySweepHandlerDeps): RecoverySweepHandler {
  return () =>
    measureInvocation(
      deps.metrics,
      'recovery-sweep',
      async () => {
        const report = await runRecoverySweep(deps);
        await deps.recordInvocation('recovery-sweep', report.failures.length === 0);
        return report;
      },
      (report) => report.failures.length > 0,
    );
}

/** Recovery settings from `TMC_RECOVERY_*` (docs/recovery.md). */
export function recoverySettingsFrom(env: Environment): { settings: RecoverySettings; guard: GuardSettings } {
  const d = DEFAULT_RECOVERY_SETTINGS;
  return {
    settings: {
      perClusterLimit: numberFrom(env, 'TMC_RECOVERY_PER_CLUSTER_LIMIT', d.perClusterLimit),
      stuckAfterSeconds: numberFrom(env, 'TMC_RECOVERY_STUCK_SECONDS', d.stuckAfterSeconds),
      driftSamples: numberFrom(env, 'TMC_RECOVERY_DRIFT_SAMPLES', d.driftSamples),
      maxRedrives: numberFrom(env, 'TMC_RECOVERY_MAX_REDRIVES', d.maxRedrives),
      cleanupResendSeconds: d.cleanupResendSeconds,
      redriveBackoff: d.redriveBackoff,
      heldAdmissionGraceSeconds: numberFrom(
        env,
        'TMC_RECOVERY_HELD_ADMISSION_GRACE_SECONDS',
        d.heldAdmissionGraceSeconds,
      ),
      unplacedDecisionLimit: numberFrom(env, 'TMC_RECOVERY_UNPLACED_DECISION_LIMIT', d.unplacedDecisionLimit),
      unplacedPerRun: numberFrom(env, 'TMC_RECOVERY_UNPLACED_PER_RUN', d.unplacedPerRun),
      unplacedGraceSeconds: numberFrom(env, 'TMC_RECOVERY_UNPLACED_GRACE_SECONDS', d.unplacedGraceSeconds),
      unplacedQueuedMaxSeconds: numberFrom(env, 'TMC_RECOVERY_UNPLACED_QUEUED_MAX_SECONDS', d.unplacedQueuedMaxSeconds),
      unsyncedDecisionLimit: numberFrom(env, 'TMC_RECOVERY_UNSYNCED_DECISION_LIMIT', d.unsyncedDecisionLimit),
      unsyncedGraceSeconds: numberFrom(env, 'TMC_RECOVERY_UNSYNCED_GRACE_SECONDS', d.unsyncedGraceSeconds),
      unsyncedQueuedMaxSeconds: numberFrom(env, 'TMC_RECOVERY_UNSYNCED_QUEUED_MAX_SECONDS', d.unsyncedQueuedMaxSeconds),
      partialDecisionLimit: numberFrom(env, 'TMC_RECOVERY_PARTIAL_DECISION_LIMIT', d.partialDecisionLimit),
      fullPassSeconds: numberFrom(env, 'TMC_RECOVERY_FULL_PASS_SECONDS', d.fullPassSeconds),
      settleSeconds: numberFrom(env, 'TMC_RECOVERY_SETTLE_SECONDS', d.settleSeconds),
    },
    guard: {
      ...DEFAULT_GUARD,
      maxShare: numberFrom(env, 'TMC_RECOVERY_MAX_DELETE_SHARE', DEFAULT_GUARD.maxShare, 1),
      minDeletions: numberFrom(env, 'TMC_RECOVERY_MIN_DELETIONS', DEFAULT_GUARD.minDeletions),
      maxDeletions: numberFrom(env, 'TMC_RECOVERY_MAX_DELETIONS', DEFAULT_GUARD.maxDeletions),
      recheckSeconds: numberFrom(env, 'TMC_RECOVERY_RECHECK_SECONDS', DEFAULT_GUARD.recheckSeconds),
      absentConfirmSeconds: numberFrom(env, 'TMC_RECOVERY_ABSENT_CONFIRM_SECONDS', DEFAULT_GUARD.absentConfirmSeconds),
      removalConfirmSeconds: numberFrom(
        env,
        'TMC_RECOVERY_UNPLACE_CONFIRM_SECONDS',
        DEFAULT_GUARD.removalConfirmSeconds,
        900,
      ),
    },
  };
}

/** Builds recovery-sweep's deps from the environment, once per container. */
export function buildRecoverySweepDeps(
  env: Environment = process.env,
): RecoverySweepHandlerDeps & { metrics: FunctionMetrics } {
  const queueNames = Object.keys(QUEUES) as QueueName[];
  const config = loadConfig(env, { table: true, queues: queueNames, dlqs: queueNames, kcp: true, contentKey: true });
  const doc = makeDynamoDocumentClient(config);
  const sqs = makeSqsClient(config);
  const tableName = tableNameOf(config);
  const log = fromPowertools(functionLogger('recovery-sweep'));
  const metrics = createFunctionMetrics('recovery-sweep');
  const kube = new KubeConnectorImpl({
    kcp: config.kcpKubeconfigSecretArn
      ? { secretArn: config.kcpKubeconfigSecretArn }
      : { path: config.kcpKubeconfig ?? '' },
    secrets: new SecretsManagerSecretReader(makeSecretsManagerClient(config)),
  });
  const syncState = new DynamoSyncStateStore({ doc, tableName });
  const statuses = new DynamoStatusStore({ doc, tableName });
  const store = new DynamoRecoveryStore(doc, tableName);
  const { settings, guard } = recoverySettingsFrom(env);
  // The quiet gate's "is anything on its way": the queues only (the DLQs are received from every run anyway).
  const queueDepths = new SqsQueueDepths(
    sqs,
    queueNames.map((name) => ({ name, url: queueUrlOf(config, name) })),
  );
  return {
    workspaces: parseWorkspaces(env.TMC_WORKSPACES),
    inventory: new DynamoClusterInventory(doc, tableName),
    syncState,
    decisions: new DynamoDecisionStore(doc, tableName),
    statuses,
    store,
    guard: new DeletionGuard({ store, metrics, log, now: Date.now, settings: guard }),
    kube,
    contentKey: contentKeySource(config),
    outbox: new DynamoAdmissionOutbox(doc, tableName),
    placementQueue: observedQueue(
      new SqsWorkQueue<PlacementMessage>({
        sqs,
        queueUrl: queueUrlOf(config, 'placement'),
        name: 'placement',
        schema: PlacementMessageSchema,
      }),
      metrics,
    ),
    syncQueue: observedQueue(
      new SqsWorkQueue<SyncMessage>({
        sqs,
        queueUrl: queueUrlOf(config, 'sync'),
        name: 'sync',
        schema: SyncMessageSchema,
      }),
      metrics,
    ),
    queueDepths: () => queueDepths.queueDepths(),
    deadLetters: queueNames.map(
      (name) => new SqsDeadLetterQueue(name, sqs, config.dlqUrls[name] ?? '', queueUrlOf(config, name)),
    ),
    // The object's decision, sync records and statuses in one Query, as status-up and sync-apply read them.
    status: makeStatusReporter({ kube, snapshot: new DynamoObjectSnapshotReader({ doc, tableName }) }),
    metrics,
    log,
    now: Date.now,
    settings,
    recordInvocation: makeInvocationRecorder(new DynamoHealthStore(doc, tableName), {
      onError: (err) => log.warn('Could not record the invocation', { error: String(err) }),
    }),
  };
}
