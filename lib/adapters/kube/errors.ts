import {
  ClusterAuthenticationError,
  ClusterThrottledError,
  ClusterUnavailableError,
  ClusterUnreachableError,
  CONNECTION_ERROR_CODES,
  ConflictError,
  InternalError,
  NotFoundError,
  PermissionError,
  SyncConflictError,
  SyncTimeoutError,
  TmcError,
  ValidationError,
} from '../../errors/tmc-error';

/** What an error is about: the endpoint (`kcp:root:default`, `east`) and the object (`apps/v1/deployments default/web`). */
export interface KubeErrorContext {
  target: string;
  object: string;
  /** The call was a server-side apply: a 409 there is a field-manager conflict, not an optimistic-concurrency loss. */
  apply?: boolean;
}

/** The parts of a Kubernetes `Status` body tmc branches on (reason and causes are API fields, not prose). */
export interface KubeStatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ type?: string; field?: string; message?: string }> };
}

/** Retry-After is either seconds or an HTTP date; anything else is ignored rather than trusted. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * Maps an HTTP status from a Kubernetes or kcp API server to the taxonomy. Branches on the status code (and, for a 409
 * on apply, on the Status body's structured `causes[].type`), never on message text.
 *
 * Decision: a 409 from server-side apply with a `FieldManagerConflict` cause becomes SyncConflictError (another
 * manager owns the fields; retrying does not help, forcing or removing the other owner does). Any other 409 is an
 * optimistic-concurrency loss: ConflictError (refetch and retry).
 */
export function translateHttpError(
  statusCode: number,
  body: KubeStatusBody | undefined,
  retryAfter: string | undefined,
  ctx: KubeErrorContext,
): TmcError {
  const apiMessage = body?.message ?? `HTTP ${statusCode}`;
  const where = `${ctx.object} on ${ctx.target}`;
  const options = { cluster: ctx.target, object: ctx.object, statusCode };
  switch (statusCode) {
    case 400:
    case 422:
      return new ValidationError(`${where} was rejected: ${apiMessage}`, options);
    case 401:
      return new ClusterAuthenticationError(`${ctx.target} did not accept tmc's credentials (${ctx.object})`, options);
    case 403:
      return new PermissionError(`${ctx.target} forbids this request on ${ctx.object}: ${apiMessage}`, options);
    case 404:
      return new NotFoundError(`${where} was not found`, options);
    case 409: {
      const fieldConflict = body?.details?.causes?.some((c) => c.type === 'FieldManagerConflict') ?? false;
      if (ctx.apply && fieldConflict) {
        return new SyncConflictError(`${where}: fields are owned by another manager: ${apiMessage}`, options);
      }
      return new ConflictError(`${where} changed concurrently: ${apiMessage}`, options);
    }
    case 429:
      return new ClusterThrottledError(`${ctx.target} throttled the request on ${ctx.object}`, {
        ...options,
        retryAfterSeconds: parseRetryAfter(retryAfter),
      });
    case 408:
      return new SyncTimeoutError(`${ctx.target} timed out on ${ctx.object}`, options);
    default:
      if (statusCode >= 500) {
        return new ClusterUnavailableError(`${ctx.target} answered ${statusCode} on ${ctx.object}: ${apiMessage}`, {
          ...options,
          retryAfterSeconds: parseRetryAfter(retryAfter),
        });
      }
      return new InternalError(
        `${ctx.target} answered an unexpected ${statusCode} on ${ctx.object}: ${apiMessage}`,
        options,
      );
  }
}

/** Errors that never produced an HTTP response: refused, reset, DNS, timeouts, aborts. */
export function translateNetworkError(err: unknown, ctx: KubeErrorContext): TmcError {
  if (err instanceof TmcError) return err;
  const code =
    typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
  const name = err instanceof Error ? err.name : undefined;
  const options = { cluster: ctx.target, object: ctx.object, cause: err };
  // Unreachable at all: the circuit, not a retry, is the answer. An abort reaching here is the transport's own
  // (a deadline's is rethrown before translation, kube-cluster-client.ts), named AbortError or TimeoutError.
  if ((code && CONNECTION_ERROR_CODES.has(code)) || name === 'AbortError' || name === 'TimeoutError') {
    return new ClusterUnreachableError(
      `${ctx.target} is unreachable (${code ?? name}) while requesting ${ctx.object}`,
      options,
    );
  }
  return new ClusterUnreachableError(`${ctx.target} could not be reached while requesting ${ctx.object}`, options);
}
