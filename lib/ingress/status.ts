import { systemClock } from '../ports/clock';
import { allowResponse, type AdmissionRequest, type AdmissionResponseBody } from '../api/admission-review';
import type { StatusMessage } from '../api/messages';
import { describeRef, gvrKey } from '../api/object-ref';
import { asTmcError } from '../errors/tmc-error';
import { carriedStatus } from './carried-object';
import { DEFAULT_ENQUEUE_DEADLINE_MS, type IngressDeps } from './deps';
import { DeadlineExceeded, ENQUEUE_RETRY_DELAYS_MS, enqueueStatus, enqueueWithRetries, withDeadline } from './enqueue';
import { upstreamRefOf } from './refs';

/**
 * A physical cluster's admission call on a status-subresource update of a tmc-managed object. Always allowed (tmc never
 * blocks a cluster's controllers); a status message for the upstream kcp object is enqueued when the object names it.
 */
export async function reviewStatus(
  deps: IngressDeps,
  request: AdmissionRequest,
  cluster: string,
): Promise<AdmissionResponseBody> {
  const uid = request.uid;
  const object = request.object;
  if (!object || request.dryRun || request.operation !== 'UPDATE') return allowResponse(uid);
  const ref = upstreamRefOf(object);
  if (!ref) {
    deps.logger.debug('Status update of an object tmc does not manage', {
      cluster,
      gvr: gvrKey(request.resource),
      name: request.name ?? undefined,
    });
    return allowResponse(uid);
  }
  const resourceVersion = object.metadata.resourceVersion;
  const status = carriedStatus(object.status);
  const message: StatusMessage = {
    type: 'status',
    ref,
    cluster,
    ...(typeof resourceVersion === 'string' && resourceVersion !== '' ? { resourceVersion } : {}),
    ...(status ? { status } : {}),
    trace: {
      traceId: deps.newTraceId?.() ?? crypto.randomUUID(),
      enqueuedAt: new Date((deps.now ?? systemClock)()).toISOString(),
    },
  };
  const ms = deps.enqueueDeadlineMs ?? DEFAULT_ENQUEUE_DEADLINE_MS;
  const keys = {
    cluster,
    workspace: ref.workspace,
    gvr: gvrKey(ref),
    namespace: ref.namespace,
    name: ref.name,
    traceId: message.trace.traceId,
  };
  const what = describeRef(ref);
  // As an admission's (admission.ts): a send still running at the deadline goes on after the answer, and a failed one
  // is retried, so a report reaches status-up by the primary path; only a send that never succeeds is the backstop's.
  const send = enqueueWithRetries(
    () => enqueueStatus(deps, message),
    deps.enqueueRetryDelaysMs ?? ENQUEUE_RETRY_DELAYS_MS,
    (err, attempt) =>
      deps.logger.warn(`Retrying the enqueue of the status of ${what} (attempt ${attempt})`, {
        ...keys,
        error: asTmcError(err).toJSON(),
      }),
  );
  try {
    await withDeadline(send.first, ms);
    return allowResponse(uid);
  } catch (err) {
    if (err instanceof DeadlineExceeded) {
      deps.metrics.increment('tmc_admission_enqueue_timeouts_total');
      deps.logger.warn(
        `Allowing the status of ${what} before its enqueue finished: the queue did not answer within ${ms} ms; the send goes on`,
        keys,
      );
    } else {
      deps.logger.warn(
        `Allowing the status of ${what} before its enqueue succeeded: the first attempt failed; retrying`,
        {
          ...keys,
          error: asTmcError(err).toJSON(),
        },
      );
    }
  }
  void send.all.then(
    () => deps.logger.info(`Enqueued the status of ${what} after the answer`, keys),
    (err: unknown) =>
      deps.logger.error(`Could not enqueue the status of ${what}: the status backstop will poll it`, {
        ...keys,
        error: asTmcError(err).toJSON(),
      }),
  );
  return allowResponse(uid);
}
