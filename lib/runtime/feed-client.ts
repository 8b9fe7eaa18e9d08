import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { applyAwsClientHook } from './aws-client-hook';
import { carryInvocationDeadline, requestHandlerOptions } from './aws-request-handler';
import type { TmcConfig } from './config';

/**
 * API Gateway's @connections API of the change feed (SYNCER_FEED.env.endpoint: `https://<api>.execute-api.<region>.
 * amazonaws.com/feed`, or the local stack's feed server), built once per container by sync-apply's composition root.
 * A module of its own so that only the functions that push bundle this client.
 */
export function makeFeedConnectionsClient(
  config: Pick<TmcConfig, 'region' | 'dynamodbEndpoint'>,
  endpoint: string,
): ApiGatewayManagementApiClient {
  const client = new ApiGatewayManagementApiClient({
    region: config.region,
    endpoint,
    requestHandler: requestHandlerOptions(5_000),
    // A push is a nudge: one retry, then the syncer's list on reconnect and its resync find the work.
    maxAttempts: 2,
    // The local stack's feed server accepts any signature, as dynalite does; keeps a developer's AWS profile out of it.
    ...(config.dynamodbEndpoint !== undefined
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  carryInvocationDeadline(client, 'API Gateway');
  // The hook only adds a middleware; its parameter is typed for the other clients' looser input unions.
  applyAwsClientHook(client as unknown as Parameters<typeof applyAwsClientHook>[0], 'execute-api');
  return client;
}
