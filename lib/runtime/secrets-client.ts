import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { applyAwsClientHook } from './aws-client-hook';
import type { TmcConfig } from './config';

/**
 * Secrets Manager (kcp's kubeconfig, webhook tokens, the content key, cluster credentials), built once per container
 * by the composition root. Apart from lib/runtime/aws.ts so that the authorizer bundles no DynamoDB or SQS client.
 */
export function makeSecretsManagerClient(config: Pick<TmcConfig, 'region'>): SecretsManagerClient {
  const client = new SecretsManagerClient({ region: config.region });
  applyAwsClientHook(client, 'secretsmanager');
  return client;
}
