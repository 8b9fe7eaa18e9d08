import type { Log } from '../observability/log';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AuthResult } from '../auth/webhook-authenticator';
import { asTmcError } from '../errors/tmc-error';
import { buildClusterReport, buildHealthReport, type HealthReportDeps } from '../health/health-report';
import type { AggregatedViewStores } from '../vw-user/list-copies';
import { AGGREGATED_VIEW_PREFIX, serveAggregatedView } from './aggregated-view';

/**
 * The seam for `GET /metrics` (the metrics engineer plugs the Prometheus text exposition in here). Until a renderer is
 * configured the route answers 503 saying so, rather than inventing numbers.
 */
export interface MetricsRenderer {
  /** `statusCode` defaults to 200 (the cloud renderer answers 501 with an explanation). */
  render(): Promise<{ contentType: string; body: string; statusCode?: number }>;
}

export interface RequestAuthenticator {
  authenticate(headers: Record<string, string | undefined>): Promise<AuthResult>;
}

export interface ApiDeps extends HealthReportDeps {
  authenticator: RequestAuthenticator;
  metricsRenderer?: MetricsRenderer;
  logger?: Log;
  /** The user's aggregated view (`/services/aggregated/…`); without it those paths answer 404. */
  aggregatedView?: AggregatedViewStores;
}

export type ApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

/** Errors as a Kubernetes-style Status, the same shape the webhooks answer with. */
function failure(statusCode: number, reason: string, message: string): APIGatewayProxyStructuredResultV2 {
  return json(statusCode, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: statusCode, reason, message });
}

const CLUSTER_PATH = /^\/health\/clusters\/([^/]+)$/;

/**
 * The api function's routes (HTTP API payload 2.0). `/healthz` is liveness: no auth and no I/O, so a load balancer
 * or a person can tell the function runs even when DynamoDB does not. Every other route needs a bearer token (401).
 * `/health` answers 503 when the aggregate is Unhealthy, so a plain HTTP check can alarm on it; the body says why.
 */
export function makeApiHandler(deps: ApiDeps): ApiHandler {
  return async (event) => {
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = event.rawPath ?? '/';
    const aggregated = deps.aggregatedView !== undefined && path.startsWith(AGGREGATED_VIEW_PREFIX);
    // The aggregated view answers writes itself (after authentication), as a read-only Kubernetes API would.
    if (method !== 'GET' && !aggregated) return failure(405, 'MethodNotAllowed', `${method} is not allowed on ${path}`);
    if (path === '/healthz') return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };

    const clusterMatch = CLUSTER_PATH.exec(path);
    if (path !== '/health' && path !== '/metrics' && clusterMatch === null && !aggregated)
      return failure(404, 'NotFound', `No route for ${path}`);

    const auth = await deps.authenticator.authenticate(lowerCaseHeaders(event.headers));
    if (!auth.ok) {
      const why = auth.reason === 'missing-token' ? 'A bearer token is required' : 'The bearer token is not accepted';
      return { ...failure(401, 'Unauthorized', why), headers: { ...JSON_HEADERS, 'www-authenticate': 'Bearer' } };
    }
    if (aggregated && deps.aggregatedView !== undefined)
      return serveAggregatedView({ stores: deps.aggregatedView, logger: deps.logger }, event, path);

    try {
      if (path === '/health') {
        const report = await buildHealthReport(deps);
        return json(report.state === 'Unhealthy' ? 503 : 200, report);
      }
      if (path === '/metrics') {
        if (deps.metricsRenderer === undefined)
          return failure(503, 'MetricsNotConfigured', 'Metrics are not configured for this api function yet');
        const rendered = await deps.metricsRenderer.render();
        return {
          statusCode: rendered.statusCode ?? 200,
          headers: { 'content-type': rendered.contentType, 'cache-control': 'no-store' },
          body: rendered.body,
        };
      }
      const name = decodeURIComponent(event.pathParameters?.name ?? clusterMatch?.[1] ?? '');
      const report = await buildClusterReport(deps, name);
      if (report === undefined)
        return failure(404, 'NotFound', `Cluster ${name} is unknown to tmc's health system (never probed)`);
      return json(200, report);
    } catch (err) {
      const error = asTmcError(err);
      deps.logger?.error(`Serving ${path} failed`, { error: error.toJSON() });
      return failure(500, 'InternalError', `Serving ${path} failed: ${error.message}`);
    }
  };
}

function lowerCaseHeaders(headers: Record<string, string | undefined> | undefined): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}
