import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { buildApiDeps, makeApiHandler, type ApiHandler } from '../../lib/runtime/api';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/**
 * The read API (HTTP API, payload 2.0): /healthz, /health, /health/clusters/{name}, /metrics and the aggregated view
 * /services/aggregated/… (lib/api-http). `/healthz` is answered before deps are built, so liveness holds even when the
 * environment is broken.
 */
let api: ApiHandler | undefined;

export const handler = wrapHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>('api', () => ({
  handle: async (event) => {
    if (event.rawPath === '/healthz') return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
    api ??= makeApiHandler(buildApiDeps());
    return api(event);
  },
}));
