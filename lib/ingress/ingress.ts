import type { z } from 'zod';
import { AdmissionReviewSchema } from '../api/admission-review';
import { DNS_SUBDOMAIN } from '../api/crds/common';
import { isLogicalClusterName, LOGICAL_CLUSTER_RULE } from '../api/logical-cluster';
import { WatchEventBatchSchema } from '../api/watch-events';
import { asTmcError } from '../errors/tmc-error';
import { reviewAdmission } from './admission';
import { parseBoundedJson } from './bounded-json';
import { DEFAULT_MAX_BODY_BYTES, type IngressDeps } from './deps';
import { ingestEvents } from './events';
import { errorResponse, jsonResponse, type IngressRequest, type IngressResponse } from './http';
import { KCP_CLUSTER_ANNOTATION, annotation } from './refs';
import { reviewStatus } from './status';

export interface Ingress {
  handle(request: IngressRequest): Promise<IngressResponse>;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; response: IngressResponse };

function parseBody<T>(request: IngressRequest, schema: z.ZodType<T>, maxBytes: number): Parsed<T> {
  if (request.body === undefined || request.body === '')
    return { ok: false, response: errorResponse(400, 'BadRequest', 'The request has no body') };
  const bytes = request.isBase64Encoded ? Buffer.from(request.body, 'base64') : Buffer.from(request.body, 'utf8');
  if (bytes.length > maxBytes) {
    return {
      ok: false,
      response: errorResponse(
        413,
        'RequestEntityTooLarge',
        `The body is ${bytes.length} bytes; the limit is ${maxBytes}`,
      ),
    };
  }
  const json = parseBoundedJson(bytes.toString('utf8'));
  if (!json.ok) return { ok: false, response: errorResponse(400, 'BadRequest', json.message) };
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) {
    const reasons = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return {
      ok: false,
      response: errorResponse(400, 'BadRequest', `The body is not a valid request: ${reasons.join('; ')}`),
    };
  }
  return { ok: true, value: parsed.data };
}

/**
 * The ingress use case: authenticate, bound the size, parse, then route. Nothing is enqueued before the caller is
 * authenticated and the body is valid.
 */
export function createIngress(deps: IngressDeps): Ingress {
  const maxBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  // A status call whose path carries a cluster credential is authenticated by it alone (a managed cluster sends no
  // Authorization header); every other call by its bearer token.
  async function authenticate(request: IngressRequest): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (request.route !== 'status' || request.credential === undefined)
      return deps.authenticator.authenticate(request.headers);
    const cluster = request.cluster ?? '';
    if (cluster.length > 253 || !DNS_SUBDOMAIN.test(cluster) || !deps.statusCredentials)
      return { ok: false, reason: 'invalid-cluster-credential' };
    return (await deps.statusCredentials.authenticate(cluster, request.credential))
      ? { ok: true }
      : { ok: false, reason: 'invalid-cluster-credential' };
  }

  async function route(request: IngressRequest): Promise<IngressResponse> {
    const auth = await authenticate(request);
    if (!auth.ok) {
      deps.logger.warn('Rejecting an unauthenticated webhook call', { route: request.route, reason: auth.reason });
      return errorResponse(401, 'Unauthorized', 'A valid bearer token or cluster credential is required');
    }
    switch (request.route) {
      case 'admission': {
        const parsed = parseBody(request, AdmissionReviewSchema, maxBytes);
        if (!parsed.ok) return parsed.response;
        const req = parsed.value.request;
        // The install-time `?workspace=` names the workspace path tmc reaches kcp by; kcp's `kcp.io/cluster`
        // annotation (a logical cluster name) is the fallback for webhooks registered without it.
        const workspace =
          request.query.workspace || annotation(req.object ?? req.oldObject ?? undefined, KCP_CLUSTER_ANNOTATION);
        if (!workspace) {
          return errorResponse(
            400,
            'BadRequest',
            'The workspace is unknown: set ?workspace= in the webhook URL or send the kcp.io/cluster annotation',
          );
        }
        // The workspace becomes `/clusters/<workspace>` in every kcp request tmc makes for this object.
        if (!isLogicalClusterName(workspace)) {
          deps.logger.warn('Rejecting an admission call for an invalid workspace', { route: request.route });
          return errorResponse(
            400,
            'BadRequest',
            `The workspace ${JSON.stringify(workspace.slice(0, 256))} is not a kcp logical cluster path: ${LOGICAL_CLUSTER_RULE}`,
          );
        }
        return jsonResponse(200, await reviewAdmission(deps, req, workspace));
      }
      case 'status': {
        if (!request.cluster) return errorResponse(400, 'BadRequest', 'The cluster is missing from the path');
        // A SyncTarget's name: status-up looks it up in kcp by this name.
        if (request.cluster.length > 253 || !DNS_SUBDOMAIN.test(request.cluster)) {
          return errorResponse(
            400,
            'BadRequest',
            'The cluster in the path is not a SyncTarget name (a DNS-1123 subdomain)',
          );
        }
        const parsed = parseBody(request, AdmissionReviewSchema, maxBytes);
        if (!parsed.ok) return parsed.response;
        return jsonResponse(200, await reviewStatus(deps, parsed.value.request, request.cluster));
      }
      case 'events': {
        const parsed = parseBody(request, WatchEventBatchSchema, maxBytes);
        if (!parsed.ok) return parsed.response;
        return jsonResponse(202, await ingestEvents(deps, parsed.value.events));
      }
    }
  }

  return {
    async handle(request: IngressRequest): Promise<IngressResponse> {
      let response: IngressResponse;
      try {
        response = await route(request);
      } catch (err) {
        const error = asTmcError(err);
        deps.logger.error('Webhook request failed', { route: request.route, error: error.toJSON() });
        response = errorResponse(
          error.retryable ? 503 : 500,
          'InternalError',
          'tmc could not process the request; retry',
        );
      }
      deps.metrics.increment('tmc_webhook_requests_total', { route: request.route, code: String(response.statusCode) });
      return response;
    },
  };
}
