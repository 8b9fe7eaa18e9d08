import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { buildIngressDeps, makeIngressHandler } from '../../lib/runtime/ingress';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/**
 * Webhook ingress: admission from kcp, watch-event batches, and status admission from physical clusters (lib/ingress).
 */
export const handler = wrapHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>('ingress', () => {
  const deps = buildIngressDeps();
  return { handle: makeIngressHandler(deps), metrics: deps.metrics };
});
