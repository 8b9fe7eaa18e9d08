import type { Clock } from '../ports/clock';
import type { Log } from '../observability/log';
import type { RecordInvocation } from '../health/record-invocation';
import type { PlacementMessage, StatusMessage } from '../api/messages';
import type { StatusCredentialAuthenticator } from '../auth/status-credentials';
import type { WebhookAuthenticator } from '../auth/webhook-authenticator';
import type { AdmissionOutbox } from '../ports/admission-outbox';
import type { PlacedVersions, SeenStore } from '../ports/seen-store';
import type { Metrics } from '../ports/telemetry';
import type { WorkQueue } from '../ports/work-queue';

/** A field-named validation result; `validateTmcObject` from lib/api/crds has this shape. */
export type TmcObjectValidator = (
  object: unknown,
) => { ok: true } | { ok: false; errors: Array<{ field: string; message: string }> };

export interface IngressDeps {
  authenticator: WebhookAuthenticator;
  /**
   * Checks the per-cluster credential a managed cluster's status webhook carries in its URL path. Without it, a
   * status call with a path credential is refused (401) like one without a token.
   */
  statusCredentials?: StatusCredentialAuthenticator;
  placementQueue: WorkQueue<PlacementMessage>;
  statusQueue: WorkQueue<StatusMessage>;
  /** Dedup of tmc's own kinds (SyncTarget, Placement, Location): a conditional write per fresh version. */
  seen: SeenStore;
  /**
   * Dedup of a workload's watch events against the version its decision was made from (a read). Absent: every such
   * event is enqueued (placement, level-triggered, writes nothing for a version it has decided on).
   */
  placed?: PlacedVersions;
  /**
   * Where an admission answered before its enqueue finished records its message first, so a container that dies
   * before the send lands does not lose it (the recovery sweep sends what is left). Absent: the send is carried on
   * after the answer only, and a lost one is left to the lost-admission pass.
   */
  outbox?: AdmissionOutbox;
  validate: TmcObjectValidator;
  logger: Log;
  metrics: Metrics;
  /** Counts invocations for component health (/health); none when omitted (tests of the logic alone). */
  recordInvocation?: RecordInvocation;
  /** How long admission waits for dedup + enqueue before allowing anyway (fail open). Default 2000 ms. */
  enqueueDeadlineMs?: number;
  /** Waits before retrying an admission's failed enqueue after the answer; ENQUEUE_RETRY_DELAYS_MS by default. */
  enqueueRetryDelaysMs?: readonly number[];
  /** Largest accepted decoded body. Default 6 MiB (Lambda's synchronous payload limit). */
  maxBodyBytes?: number;
  now?: Clock;
  newTraceId?: () => string;
}

export const DEFAULT_ENQUEUE_DEADLINE_MS = 2_000;
/** How long the answer waits for the outbox record of an enqueue that missed its deadline. */
export const OUTBOX_HOLD_DEADLINE_MS = 1_000;
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;
