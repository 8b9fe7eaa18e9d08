import { systemClock } from '../ports/clock';
import {
  allowResponse,
  denyResponse,
  subjectOf,
  type AdmissionRequest,
  type AdmissionResponseBody,
  type JsonPatchOperation,
} from '../api/admission-review';
import { secretOutsideWorkspace } from '../api/cluster-credentials';
import { SyncTargetSchema } from '../api/crds/sync-target';
import type { KubeObjectShape, PlacementMessage } from '../api/messages';
import { describeRef, gvrKey, type ObjectRef } from '../api/object-ref';
import { withOwnDeadline } from '../errors/deadline';
import { asTmcError } from '../errors/tmc-error';
import { carriedObject } from './carried-object';
import { DEFAULT_ENQUEUE_DEADLINE_MS, OUTBOX_HOLD_DEADLINE_MS, type IngressDeps } from './deps';
import {
  DeadlineExceeded,
  type Dedup,
  ENQUEUE_RETRY_ATTEMPT_MS,
  ENQUEUE_RETRY_DELAYS_MS,
  enqueuePlacement,
  enqueueWithRetries,
  withDeadline,
} from './enqueue';
import { finalizerPatch, withFinalizer } from './finalizer-patch';
import { placementFingerprint } from './fingerprint';
import { buildRef } from './refs';
import { EXCLUDED_NAMESPACES, selectWorkload, tmcKindReason } from './selection';

/**
 * Answers one AdmissionReview from kcp. tmc's own kinds are validated (an invalid one is denied with the field named);
 * selected workloads get tmc's finalizer on CREATE. Either way a placement message is enqueued, raced against a
 * deadline: admission is allowed even when the queue is slow or down (fail open, docs/webhooks.md), because blocking
 * every write in kcp on SQS would be worse than a late placement, which the scheduled resync supplies.
 */
export async function reviewAdmission(
  deps: IngressDeps,
  request: AdmissionRequest,
  workspace: string,
): Promise<AdmissionResponseBody> {
  const uid = request.uid;
  const subject = subjectOf(request);
  const deleting = request.operation === 'DELETE' || typeof subject?.metadata.deletionTimestamp === 'string';
  // Status and other subresource writes in kcp (status-up's own) are not changes placement reacts to; scale is.
  if (request.subResource && request.subResource !== 'scale') return allowResponse(uid);
  if (request.operation === 'CONNECT' || !subject) return allowResponse(uid);

  // An UPDATE that changes nothing placement or sync reads (tmc's own label, annotation and finalizer writes, a
  // resourceVersion bump, an identical re-apply) needs no work: answered with no I/O, so tmc's writes to kcp do not
  // each cost a queue round trip and a placement read on their way back through this webhook.
  const unchanged =
    request.operation === 'UPDATE' &&
    !request.subResource &&
    request.object != null &&
    request.oldObject != null &&
    placementFingerprint(request.oldObject, false) === placementFingerprint(request.object, false);

  const gvr = request.resource;
  const tmcReason = tmcKindReason(gvr);
  const ref = buildRef({
    workspace,
    ...gvr,
    kind: request.kind.kind,
    namespace: request.namespace,
    name: request.name,
    object: subject,
  });

  if (tmcReason) {
    if (request.operation !== 'DELETE' && request.object) {
      const result = deps.validate(request.object);
      if (!result.ok) {
        const message = result.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
        deps.logger.info('Denying an invalid object', {
          workspace,
          gvr: gvrKey(gvr),
          name: request.name ?? undefined,
          reason: message,
        });
        return denyResponse(uid, message);
      }
      const outside =
        tmcReason === 'cluster-change' ? credentialsOutsideWorkspace(request.object, workspace) : undefined;
      if (outside) {
        deps.logger.warn("Denying a SyncTarget that names another workspace's credentials", {
          workspace,
          gvr: gvrKey(gvr),
          name: request.name ?? undefined,
        });
        return denyResponse(uid, outside, 403, 'Forbidden');
      }
    }
    if (ref && !request.dryRun && !unchanged)
      await enqueueFailOpen(
        deps,
        placementMessage(deps, ref, subject, deleting ? 'delete' : 'admission', false),
        subject,
        deleting,
        'seen',
      );
    return allowResponse(uid);
  }

  // A namespace relabelled in kcp may now match another Placement: placement re-decides it, and its objects follow.
  // Only UPDATE: a new namespace is placed with its first object, and tmc puts no finalizer on namespaces.
  if (gvr.group === '' && gvr.resource === 'namespaces') {
    const name = subject.metadata.name;
    if (
      request.operation !== 'UPDATE' ||
      unchanged ||
      deleting ||
      request.dryRun ||
      !ref ||
      typeof name !== 'string' ||
      EXCLUDED_NAMESPACES.includes(name)
    )
      return allowResponse(uid);
    await enqueueFailOpen(deps, placementMessage(deps, ref, subject, 'admission', false), subject, false, 'none');
    return allowResponse(uid);
  }

  const selection = selectWorkload(gvr, request.namespace ?? subject.metadata.namespace, subject);
  if (!selection.selected || unchanged) return allowResponse(uid);

  let patch: JsonPatchOperation[] = [];
  let stored: KubeObjectShape = subject;
  // Cluster-scoped kinds that are selected get the finalizer too: they follow the workspace's work by default, and a
  // delete must reach placement as a deletionTimestamp (an object gone without one waits for the sweep's word).
  if (request.operation === 'CREATE' && request.object && !deleting) {
    patch = finalizerPatch(request.object);
    stored = withFinalizer(request.object);
  }
  // sideEffects NoneOnDryRun: a dry run gets the same patch and enqueues nothing.
  if (request.dryRun) return allowResponse(uid, patch);
  if (!ref) {
    // CREATE with generateName: no name yet; the ADDED watch event or the resync enqueues it.
    deps.logger.debug('Admission without a name; leaving it to the watch event', {
      workspace,
      gvr: gvrKey(gvr),
      namespace: request.namespace ?? undefined,
    });
    return allowResponse(uid, patch);
  }
  // A Scale is not the object: placement reads the object once kcp has stored the new replicas.
  const carry = !deleting && request.subResource !== 'scale';
  await enqueueFailOpen(
    deps,
    placementMessage(deps, ref, stored, deleting ? 'delete' : 'admission', carry),
    stored,
    deleting,
    'none',
  );
  return allowResponse(uid, patch);
}

/** Why a SyncTarget may not use the credentials it names from `workspace` (lib/api/cluster-credentials.ts), if it may not. */
function credentialsOutsideWorkspace(object: KubeObjectShape, workspace: string): string | undefined {
  const parsed = SyncTargetSchema.safeParse(object);
  const arn = parsed.success ? parsed.data.spec.workloadCluster.credentials?.secretsManagerArn : undefined;
  const why = arn === undefined ? undefined : secretOutsideWorkspace(arn, workspace);
  return why ? `spec.workloadCluster.credentials.secretsManagerArn: ${why}` : undefined;
}

function placementMessage(
  deps: IngressDeps,
  ref: ObjectRef,
  object: KubeObjectShape,
  reason: PlacementMessage['reason'],
  carry: boolean,
): PlacementMessage {
  const generation = object.metadata.generation;
  const resourceVersion = object.metadata.resourceVersion;
  const carried = carry ? carriedObject(ref, object) : undefined;
  return {
    type: 'placement',
    ref,
    ...(typeof generation === 'number' ? { generation } : {}),
    resourceVersion: typeof resourceVersion === 'string' ? resourceVersion : '',
    reason,
    ...(carried ? { object: carried } : {}),
    trace: {
      traceId: deps.newTraceId?.() ?? crypto.randomUUID(),
      enqueuedAt: new Date((deps.now ?? systemClock)()).toISOString(),
    },
  };
}

/**
 * Enqueues the admission's placement message, answering within the deadline whatever the queue does (fail open). A
 * send still running at the deadline goes on after the answer, and a failed one is retried
 * ({@link enqueueWithRetries}): the change kcp stored reaches placement by the primary path, and only a send that
 * never succeeds (or dies with its process) is left to the recovery sweep's lost-admission pass. In Lambda the
 * carried-on send runs while the container is warm (frozen between invocations, it resumes with the next one).
 */
async function enqueueFailOpen(
  deps: IngressDeps,
  message: PlacementMessage,
  object: KubeObjectShape,
  deleted: boolean,
  dedup: Dedup,
): Promise<void> {
  const ms = deps.enqueueDeadlineMs ?? DEFAULT_ENQUEUE_DEADLINE_MS;
  const keys = {
    workspace: message.ref.workspace,
    gvr: gvrKey(message.ref),
    namespace: message.ref.namespace,
    name: message.ref.name,
    traceId: message.trace.traceId,
  };
  const what = describeRef(message.ref);
  const fingerprint = placementFingerprint(object, deleted);
  const started = Date.now();
  const send = enqueueWithRetries(
    () => enqueuePlacement(deps, { message, fingerprint, dedup }),
    deps.enqueueRetryDelaysMs ?? ENQUEUE_RETRY_DELAYS_MS,
    (err, attempt) =>
      deps.logger.warn(`Retrying the enqueue of ${what} (attempt ${attempt})`, {
        ...keys,
        error: asTmcError(err).toJSON(),
      }),
  );
  try {
    const outcome = await withDeadline(send.first, ms);
    deps.logger.debug(
      outcome === 'enqueued' ? `Enqueued ${what} for placement` : `Skipped a duplicate of ${what}`,
      keys,
    );
    return;
  } catch (err) {
    if (err instanceof DeadlineExceeded) {
      deps.metrics.increment('tmc_admission_enqueue_timeouts_total');
      deps.logger.warn(
        `Allowing ${what} before its enqueue finished: the queue did not answer within ${ms} ms; the send goes on`,
        keys,
      );
    } else {
      deps.logger.warn(`Allowing ${what} before its enqueue succeeded: the first attempt failed; retrying`, {
        ...keys,
        error: asTmcError(err).toJSON(),
      });
    }
  }
  const held = await holdInOutbox(deps, message, keys);
  // After the answer: the send (and its retries) goes on; its end is logged and counted, and its outbox record dropped.
  void send.all.then(
    (outcome) => {
      deps.metrics.increment('tmc_admission_enqueue_late_total', { outcome });
      if (held)
        void held.written
          .then(() => withOwnDeadline(ENQUEUE_RETRY_ATTEMPT_MS, async () => deps.outbox?.release(message)))
          .catch((err: unknown) =>
            deps.logger.warn(`Could not drop the outbox record of ${what}; the sweep sends it again`, {
              ...keys,
              error: asTmcError(err).toJSON(),
            }),
          );
      deps.logger.info(
        outcome === 'enqueued'
          ? `Enqueued ${what} for placement ${Date.now() - started} ms after the admission arrived`
          : `Skipped a late duplicate of ${what}`,
        keys,
      );
    },
    (err: unknown) => {
      deps.metrics.increment('tmc_admission_enqueue_late_total', { outcome: 'failed' });
      deps.logger.error(
        `Could not enqueue ${what}: the recovery sweep's lost-admission pass will ask placement about it`,
        { ...keys, error: asTmcError(err).toJSON() },
      );
    },
  );
}

/**
 * Before answering an admission whose enqueue has not finished: its message is recorded in the outbox (bounded by
 * OUTBOX_HOLD_DEADLINE_MS), so that if this container dies before the carried-on send lands, the recovery sweep sends
 * it. Resolves with the record's write (which may land after the answer, or fail: then only the lost-admission pass
 * is left, as without an outbox), or undefined when there is no outbox.
 */
async function holdInOutbox(
  deps: IngressDeps,
  message: PlacementMessage,
  keys: Record<string, string | undefined>,
): Promise<{ written: Promise<void> } | undefined> {
  const outbox = deps.outbox;
  if (!outbox) return undefined;
  // Its own deadline, as the send's retries have: the answer may already be past the invocation's.
  const written = withOwnDeadline(ENQUEUE_RETRY_ATTEMPT_MS, () => outbox.hold(message));
  try {
    await withDeadline(written, OUTBOX_HOLD_DEADLINE_MS);
  } catch (err) {
    deps.logger.warn(`Could not record ${describeRef(message.ref)} in the outbox before answering`, {
      ...keys,
      error: err instanceof DeadlineExceeded ? err.message : asTmcError(err).toJSON(),
    });
  }
  // A record written after the answer is still dropped once the send lands; one never written needs no dropping.
  return { written };
}

export { placementMessage };
