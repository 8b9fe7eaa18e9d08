import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';
import { buildAuthorizerDeps, makeAuthorizerHandler } from '../../lib/runtime/authorizer';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/** The HTTP API's Lambda authorizer (cloud only; lib/runtime/authorizer.ts). */
export const handler = wrapHandler<APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult>(
  'authorizer',
  () => ({ handle: makeAuthorizerHandler(buildAuthorizerDeps()) }),
);
