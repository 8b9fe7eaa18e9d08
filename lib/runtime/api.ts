import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoCircuitStore } from '../adapters/dynamodb/circuit-store';
import { DynamoHealthStore } from '../adapters/dynamodb/health-store';
import { SecretsManagerSecretReader } from '../adapters/kube/secret-reader';
import { makeApiHandler, type ApiDeps, type ApiHandler, type MetricsRenderer } from '../api-http/api-router';
import { SecretTokenSource, StaticTokenSource, type TokenSource } from '../auth/token-source';
import { WebhookAuthenticator } from '../auth/webhook-authenticator';
import { makeDynamoDocumentClient } from './aws';
import { loadConfig, tableNameOf, type Environment } from './config';
import { createLogger } from './logger';

export { makeApiHandler, type ApiHandler };

/**
 * Builds the api function's deps from the environment, once per container. `metricsRenderer` is the metrics
 * engineer's seam: pass one in (the local stack's Prometheus registry) and `/metrics` serves it; without, 503.
 */
export function buildApiDeps(env: Environment = process.env, extra: { metricsRenderer?: MetricsRenderer } = {}): ApiDeps {
  const config = loadConfig(env, { table: true, webhookTokens: true });
  const doc = makeDynamoDocumentClient(config);
  const tableName = tableNameOf(config);
  let tokens: TokenSource;
  if (config.webhookTokensSecretArn) {
    tokens = new SecretTokenSource(new SecretsManagerSecretReader(new SecretsManagerClient({ region: config.region })), config.webhookTokensSecretArn);
  } else {
    tokens = new StaticTokenSource(config.webhookTokens);
  }
  const logger = createLogger('api');
  return {
    store: new DynamoHealthStore(doc, tableName),
    circuits: new DynamoCircuitStore(doc, tableName),
    authenticator: new WebhookAuthenticator(tokens),
    metricsRenderer: extra.metricsRenderer,
    logger: { error: (m, e) => logger.error(m, e ?? {}) },
  };
}
