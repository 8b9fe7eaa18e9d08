import type { Log } from '../observability/log';
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';
import { WebhookAuthenticator } from '../auth/webhook-authenticator';
import { loadConfig, type Environment } from './config';
import { fromPowertools, functionLogger } from './logger';
import { webhookTokenSource } from './webhook-tokens';

export type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEventV2,
) => Promise<APIGatewaySimpleAuthorizerResult>;

export interface AuthorizerDeps {
  authenticator: WebhookAuthenticator;
  logger: Log;
}

/**
 * The HTTP API's Lambda authorizer (simple responses, payload 2.0): the same bearer-token check ingress and api make
 * (lib/auth), done once at the edge so unauthenticated calls never reach them. A token source that cannot be read
 * (secret missing, no permission) throws: API Gateway answers 500 and the error is in this function's log, instead of
 * every caller seeing a 403 that hides a deployment fault.
 */
export function makeAuthorizerHandler(deps: AuthorizerDeps): AuthorizerHandler {
  return async (event) => {
    const result = await deps.authenticator.authenticate(event.headers ?? {});
    if (!result.ok)
      deps.logger.warn('Rejecting webhook call without a valid bearer token', {
        route: event.routeKey,
        reason: result.reason,
      });
    return { isAuthorized: result.ok };
  };
}

/** Builds the authorizer's deps from the environment, once per container. */
export function buildAuthorizerDeps(env: Environment = process.env): AuthorizerDeps {
  const config = loadConfig(env, { webhookTokens: true });
  const logger = fromPowertools(functionLogger('authorizer'));
  return {
    authenticator: new WebhookAuthenticator(webhookTokenSource(config)),
    logger,
  };
}
