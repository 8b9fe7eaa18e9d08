import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { buildIngressDeps, makeIngressHandler, type IngressHandler } from '../../lib/runtime/ingress';

/**
 * Webhook ingress: admission from kcp, watch-event batches, and status admission from physical clusters
 * (lib/ingress). Deps are built on the first invocation, not at import, so a bad environment fails the call with its
 * variable's name instead of breaking the module load.
 */
let deps: ReturnType<typeof buildIngressDeps> | undefined;
let inner: IngressHandler | undefined;

async function ingress(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  if (!inner) {
    deps = buildIngressDeps();
    inner = makeIngressHandler(deps);
  }
  try {
    return await inner(event);
  } finally {
    deps?.metrics.flush();
  }
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler((event, context) =>
  withInvocationDeadline(context, () => ingress(event)),
);
