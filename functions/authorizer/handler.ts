import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';
import { buildAuthorizerDeps, makeAuthorizerHandler, type AuthorizerHandler } from '../../lib/runtime/authorizer';

/**
 * The HTTP API's Lambda authorizer (cloud only; lib/runtime/authorizer.ts). Deps are built on the first invocation so
 * a bad environment fails the call with its variable's name.
 */
let inner: AuthorizerHandler | undefined;

async function authorizer(event: APIGatewayRequestAuthorizerEventV2): Promise<APIGatewaySimpleAuthorizerResult> {
  inner ??= makeAuthorizerHandler(buildAuthorizerDeps());
  return inner(event);
}

export const handler = middy<APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult>().handler(
  (event, context) => withInvocationDeadline(context, () => authorizer(event)),
);
