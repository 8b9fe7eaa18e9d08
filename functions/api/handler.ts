import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { buildApiDeps, makeApiHandler, type ApiHandler } from '../../lib/runtime/api';

/**
 * The read API (HTTP API, payload 2.0): /healthz, /health, /health/clusters/{name}, /metrics and the aggregated view
 * /services/aggregated/… (lib/api-http).
 * `/healthz` is answered before deps are built, so liveness holds even when the environment is broken.
 */
let inner: ApiHandler | undefined;

async function api(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  if (event.rawPath === '/healthz') return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
  inner ??= makeApiHandler(buildApiDeps());
  return inner(event);
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler((event, context) =>
  withInvocationDeadline(context, () => api(event)),
);
