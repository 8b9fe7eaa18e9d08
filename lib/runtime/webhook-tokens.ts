import { makeSecretsManagerClient } from './secrets-client';
import { SecretsManagerSecretReader } from '../adapters/kube/secret-reader';
import { SecretTokenSource, StaticTokenSource, type TokenSource } from '../auth/token-source';
import type { TmcConfig } from './config';

/** The accepted webhook tokens: the Secrets Manager secret in the cloud, TMC_WEBHOOK_TOKENS on the local stack. */
export function webhookTokenSource(
  config: Pick<TmcConfig, 'region' | 'webhookTokens' | 'webhookTokensSecretArn'>,
): TokenSource {
  if (config.webhookTokensSecretArn) {
    return new SecretTokenSource(
      new SecretsManagerSecretReader(makeSecretsManagerClient(config)),
      config.webhookTokensSecretArn,
    );
  }
  return new StaticTokenSource(config.webhookTokens);
}
