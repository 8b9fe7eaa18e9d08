import type { GroupVersionResource } from '../kube/object';

/** An API error answered as a Kubernetes `Status`, with the reason and message a real API server gives. */
export class ApiError extends Error {
  /** An optimistic-concurrency conflict (the object changed under the write), which a patch without a resourceVersion retries. */
  staleRead = false;

  private static markStale(error: ApiError): ApiError {
    error.staleRead = true;
    return error;
  }

  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }

  static notFound(info: { group: string; resource: string }, name: string): ApiError {
    const qualified = info.group ? `${info.resource}.${info.group}` : info.resource;
    return new ApiError(404, 'NotFound', `${qualified} "${name}" not found`, {
      name,
      group: info.group || undefined,
      kind: info.resource,
    });
  }

  static notFoundResource(gvr: GroupVersionResource): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {
      group: gvr.group || undefined,
      kind: gvr.resource,
    });
  }

  static alreadyExists(info: { group: string; resource: string }, name: string): ApiError {
    const qualified = info.group ? `${info.resource}.${info.group}` : info.resource;
    return new ApiError(409, 'AlreadyExists', `${qualified} "${name}" already exists`, {
      name,
      group: info.group || undefined,
      kind: info.resource,
    });
  }

  static conflict(info: { group: string; resource: string }, name: string): ApiError {
    const qualified = info.group ? `${info.resource}.${info.group}` : info.resource;
    return ApiError.markStale(
      new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: info.group || undefined, kind: info.resource },
      ),
    );
  }

  static badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  }

  /** 422 as kube-apiserver's NewInvalid words it: `Deployment.apps "web" is invalid: [a, b]` (brackets for several). */
  static invalid(
    kind: string,
    name: string,
    causes: Array<{ field: string; message: string; reason?: string }>,
    group = '',
  ): ApiError {
    const each = causes.map((c) => `${c.field}: ${c.message}`);
    const summary = each.length === 1 ? each[0] : `[${each.join(', ')}]`;
    return new ApiError(422, 'Invalid', `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${summary}`, {
      name,
      group: group || undefined,
      kind,
      causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })),
    });
  }
}
