import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { applyAwsClientHook } from './aws-client-hook';
import { carryInvocationDeadline, requestHandlerOptions } from './aws-request-handler';
import type { TmcConfig } from './config';

/**
 * Secrets Manager (kcp's kubeconfig, webhook tokens, the content key, cluster credentials), built once per container
 * by the composition root. Apart from lib/runtime/aws.ts so that the authorizer bundles no DynamoDB or SQS client.
 */
export function makeSecretsManagerClient(config: Pick<TmcConfig, 'region'>): SecretsManagerClient {
  const client = new SecretsManagerClient({ region: config.region, requestHandler: requestHandlerOptions(10_000) });
  carryInvocationDeadline(client, 'Secrets Manager');
  applyAwsClientHook(client, 'secretsmanager');
  return client;
}
