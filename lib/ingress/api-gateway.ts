import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { IngressRequest, IngressResponse } from './http';

/**
 * Maps an API Gateway HTTP API (payload 2.0) event to an ingress request. The route comes from `routeKey` when API
 * Gateway matched one of ROUTES, else from the raw path (the local stack's server sets both).
 */
/** A percent-decoded path segment; a malformed escape stays as sent, so validation refuses it instead of throwing. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function fromApiGatewayEvent(event: APIGatewayProxyEventV2): IngressRequest | undefined {
  const path = event.routeKey?.startsWith('POST ') ? event.routeKey.slice(5) : event.rawPath;
  let route: IngressRequest['route'] | undefined;
  let cluster = event.pathParameters?.cluster;
  let credential = event.pathParameters?.credential;
  if (path === '/webhooks/admission') route = 'admission';
  else if (path === '/webhooks/events') route = 'events';
  else if (path === '/webhooks/admission/{workspace}') route = 'admission';
  else if (path === '/webhooks/status/{cluster}') route = 'status';
  else if (path === '/webhooks/status/{cluster}/{credential}') route = 'status';
  else {
    const match = /^\/webhooks\/status\/([^/]+)(?:\/([^/]+))?$/.exec(event.rawPath ?? '');
    if (match) {
      route = 'status';
      cluster = decodePathSegment(match[1]);
      credential = match[2] === undefined ? undefined : decodePathSegment(match[2]);
    }
  }
  if (route !== 'status') credential = undefined;
  // `/webhooks/admission/<workspace>`: the form real kube-apiserver accepts (webhook URLs may not carry a query);
  // served once ROUTES has the route (docs/webhooks.md).
  let workspaceFromPath: string | undefined = event.pathParameters?.workspace;
  if (!route) {
    const match = /^\/webhooks\/admission\/([^/]+)$/.exec(event.rawPath ?? '');
    if (match) {
      route = 'admission';
      workspaceFromPath = decodePathSegment(match[1]);
    }
  } else if (route !== 'admission') {
    workspaceFromPath = undefined;
  }
  if (!route) return undefined;
  const headers: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(event.headers ?? {})) headers[key.toLowerCase()] = value;
  return {
    route,
    headers,
    query: { ...(event.queryStringParameters ?? {}), ...(workspaceFromPath ? { workspace: workspaceFromPath } : {}) },
    ...(cluster ? { cluster } : {}),
    ...(credential !== undefined ? { credential } : {}),
    body: event.body,
    isBase64Encoded: event.isBase64Encoded ?? false,
  };
}

export function toApiGatewayResult(response: IngressResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body };
}
