import type { Clock } from '../ports/clock';
import type { PlacementMessage, SyncMessage } from '../api/messages';
import type { ObjectRef } from '../api/object-ref';
import { randomUUID } from 'node:crypto';
import type { BackoffPolicy } from '../errors/backoff';
import type { ContentKeySource } from '../kube/canonical-hash';
import type { AdmissionOutbox } from '../ports/admission-outbox';
import type { ClusterInventory } from '../ports/cluster-inventory';
import type { DeadLetterQueue } from '../ports/dead-letter-queue';
import type { DecisionStore, DecisionVersionReader } from '../ports/decision-store';
import type { KubeConnector } from '../ports/kube-client';
import type { RecoveryActionKind, RecoveryOutcome, RecoveryStore } from '../ports/recovery-store';
import type { StatusStore } from '../ports/status-store';
import type { SyncStateStore } from '../ports/sync-state-store';
import type { Metrics } from '../ports/telemetry';
import type { WorkQueue } from '../ports/work-queue';
import type { StatusReporter } from '../sync/status/report-status';
import type { Log } from '../observability/log';
import { holdsMessages, type QueueDepth } from '../metrics/rollup';
import type { DeletionGuard } from './deletion-guard';
import { carriedSendMaxMs, ENQUEUE_RETRY_ATTEMPT_MS } from '../ingress/enqueue';
import { FUNCTIONS } from '../runtime/resources';

/**
 * A held admission younger than this may still be sent, and its record dropped, by its own container: the first
 * attempt within the function's timeout, four retries each on a deadline of their own, then the record's delete on
 * one more (lib/ingress/enqueue.ts): 10 s + 7.5 s of waits + 5 × 15 s = 92.5 s, so 93 s. It was 30 s, shorter than
 * a live container's retries: under load a send still being retried was sent a second time and counted as a repair.
 */
const HELD_ADMISSION_GRACE_SECONDS = Math.ceil(
  (carriedSendMaxMs(FUNCTIONS.ingress.timeoutSeconds * 1000) + ENQUEUE_RETRY_ATTEMPT_MS) / 1000,
);

export interface RecoverySettings {
  /** Sync items read per cluster per sweep (one bounded Query on gsi1 `CLUSTER#<name>`; a cursor carries on next run). */
  perClusterLimit: number;
  /** A pending or failed sync item older than this is re-enqueued (with backoff). */
  stuckAfterSeconds: number;
  /** Applied objects per cluster compared with the live copy each sweep. */
  driftSamples: number;
  /** Redrives of one dead-lettered message before tmc keeps it and shows why. */
  maxRedrives: number;
  /** A cleanup delete sent this long ago without effect is sent again. */
  cleanupResendSeconds: number;
  /** Delay of the n-th redrive of a dead letter (full jitter, at least `baseSeconds`; SQS delays stop at 900 s). */
  redriveBackoff: BackoffPolicy;
  /** A held admission younger than this is left to its own container (lib/recovery/held-admissions.ts). */
  heldAdmissionGraceSeconds: number;
  /** Decisions read per workspace per sweep by the unplaced pass (gsi1 `DECISIONS#<workspace>`; a cursor carries on). */
  unplacedDecisionLimit: number;
  /** Placement messages the unplaced pass sends per workspace per sweep; the rest wait for the next run. */
  unplacedPerRun: number;
  /** An object written in kcp less than this long ago is left to its admission message, which may still be queued. */
  unplacedGraceSeconds: number;
  /**
   * While the placement queue holds messages, an object written less than this long ago is left to its admission
   * message too: under load the queue holds a burst's admissions for minutes. Once the queue is empty, or past this,
   * an object still unplaced is asked about.
   */
  unplacedQueuedMaxSeconds: number;
  /** Decisions read per workspace per sweep by the anti-entropy pass (lib/recovery/resync.ts; a cursor carries on). */
  unsyncedDecisionLimit: number;
  /** A decision younger than this is left to the sync messages it sent. */
  unsyncedGraceSeconds: number;
  /**
   * While the sync queue holds messages, a decision younger than this is left to them too: under load the queue holds
   * an update's messages for minutes. Once the queue is empty, or past this, a pair still behind is re-sent.
   */
  unsyncedQueuedMaxSeconds: number;
  /** Decisions read per workspace per sweep by the re-ask after a cluster returned (lib/recovery/partial.ts; a cursor carries on). */
  partialDecisionLimit: number;
  /** With the quiet gate: a full pass at least this often, whatever the gate sees. */
  fullPassSeconds: number;
  /** With the quiet gate: a full pass is quiet only when nothing the gate sees changed for this long before it. */
  settleSeconds: number;
}

export const DEFAULT_RECOVERY_SETTINGS: RecoverySettings = {
  perClusterLimit: 500,
  stuckAfterSeconds: 300,
  driftSamples: 5,
  maxRedrives: 3,
  cleanupResendSeconds: 300,
  redriveBackoff: { baseSeconds: 60, capSeconds: 900 },
  heldAdmissionGraceSeconds: HELD_ADMISSION_GRACE_SECONDS,
  unplacedDecisionLimit: 2000,
  unplacedPerRun: 100,
  unplacedGraceSeconds: 120,
  unplacedQueuedMaxSeconds: 600,
  unsyncedDecisionLimit: 200,
  unsyncedGraceSeconds: 60,
  unsyncedQueuedMaxSeconds: 600,
  partialDecisionLimit: 2000,
  fullPassSeconds: 1800,
  // The longest grace of the passes (unplaced 120 s) plus two runs: SQS's approximate depths lag up to a minute.
  settleSeconds: 240,
};

/** Everything the sweep talks to; built once per container (lib/runtime/recovery-sweep.ts). */
export interface RecoverySweepDeps {
  workspaces: string[];
  inventory: ClusterInventory;
  syncState: SyncStateStore;
  decisions: DecisionStore & DecisionVersionReader;
  statuses: StatusStore;
  store: RecoveryStore;
  guard: DeletionGuard;
  kube: KubeConnector;
  /** The key Secrets' content hashes are made with, to tell a Secret changed since its decision (as placement does). */
  contentKey: ContentKeySource;
  placementQueue: WorkQueue<PlacementMessage>;
  syncQueue: WorkQueue<SyncMessage>;
  deadLetters: DeadLetterQueue[];
  /** Admissions answered before their enqueue finished (lib/recovery/held-admissions.ts); absent: none are kept. */
  outbox?: AdmissionOutbox;
  /**
   * Depths of tmc's queues. With it the sweep runs its quiet gate (lib/recovery/quiet-gate.ts): an idle run makes a
   * full pass only when something changed or at `fullPassSeconds`; without it every run is a full pass.
   */
  queueDepths?: () => Promise<QueueDepth[]>;
  /** Refreshes the kcp object's per-cluster status after tmc gives up on a message. */
  status?: StatusReporter;
  metrics: Metrics;
  log: Log;
  now: Clock;
  settings: RecoverySettings;
}

/** What one sweep did, by action and outcome (`failover:enqueued` → 3). */
export interface RecoverySweepReport {
  actions: Record<string, number>;
  /** Parts of the sweep that failed (tmc's own failure: the table, kcp), each naming what and where. */
  failures: string[];
  /**
   * Parts that failed because a cluster did not answer (unreachable, 5xx, throttled, credentials): that cluster's
   * health, which health-probe judges, not a failure of the sweep (its run still counts as a success).
   */
  clusterFailures?: string[];
}

/** Records one action in DynamoDB and in metrics, and counts it in the report. */
export async function act(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  action: {
    action: RecoveryActionKind;
    outcome: RecoveryOutcome;
    why: string;
    workspace?: string;
    cluster?: string;
    ref?: ObjectRef;
  },
): Promise<void> {
  const key = `${action.action}:${action.outcome}`;
  report.actions[key] = (report.actions[key] ?? 0) + 1;
  deps.metrics.increment('tmc_recovery_actions_total', { action: action.action, outcome: action.outcome });
  await deps.store.record({ ...action, at: new Date(deps.now()).toISOString() });
}

export function newTrace(now: number): { traceId: string; enqueuedAt: string } {
  return { traceId: `recovery-${randomUUID()}`, enqueuedAt: new Date(now).toISOString() };
}

/**
 * Whether one of tmc's queues holds messages (waiting, in flight or delayed): the depths are read on the first call of
 * the returned function, at most once (and once per run: sweep.ts). False without queue depths (tests of the passes
 * alone) or when the read fails: a re-send ahead of its queued message only arrives twice, while waiting on a failed
 * read could leave a lost message.
 */
export function queueHolds(deps: RecoverySweepDeps, queue: 'sync' | 'placement'): () => Promise<boolean> {
  let reading: Promise<boolean> | undefined;
  return () =>
    (reading ??= (deps.queueDepths ? deps.queueDepths() : Promise.resolve([])).then(
      (depths) => depths.some((q) => q.queue === queue && holdsMessages(q)),
      (err: unknown) => {
        deps.log.warn(`Recovery sweep could not read the ${queue} queue depth`, { error: String(err) });
        return false;
      },
    ));
}
