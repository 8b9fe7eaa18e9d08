import { DynamoCircuitStore } from '../adapters/dynamodb/circuit-store';
import { DynamoHealthStore } from '../adapters/dynamodb/health-store';
import { DynamoStatusStore } from '../adapters/dynamodb/status-store';
import { DynamoSyncStateStore } from '../adapters/dynamodb/sync-state-store';
import { makeApiHandler, type ApiDeps, type ApiHandler, type MetricsRenderer } from '../api-http/api-router';
import { WebhookAuthenticator } from '../auth/webhook-authenticator';
import { makeDynamoDocumentClient } from './aws';
import { loadConfig, tableNameOf, type Environment } from './config';
import { cloudMetricsRenderer, promMetricsRenderer } from '../metrics/metrics-renderer';
import { fromPowertools, functionLogger } from './logger';
import { sharedPromMetrics } from './metrics';
import { webhookTokenSource } from './webhook-tokens';

export { makeApiHandler, type ApiHandler };

/**
 * Builds the api function's deps from the environment, once per container. `metricsRenderer` is the metrics
 * engineer's seam: pass one in, or get the local stack's shared registry when installed, else a 501 that explains.
 */
export function buildApiDeps(
  env: Environment = process.env,
  extra: { metricsRenderer?: MetricsRenderer } = {},
): ApiDeps {
  const config = loadConfig(env, { table: true, webhookTokens: true });
  const doc = makeDynamoDocumentClient(config);
  const tableName = tableNameOf(config);
  const logger = fromPowertools(functionLogger('api'));
  return {
    store: new DynamoHealthStore(doc, tableName),
    circuits: new DynamoCircuitStore(doc, tableName),
    authenticator: new WebhookAuthenticator(webhookTokenSource(config)),
    // The local stack's shared registry when installed; in Lambda a 501 that says where metrics are (docs/metrics.md).
    metricsRenderer: extra.metricsRenderer ?? defaultMetricsRenderer(),
    logger,
    // Read-only: Query and BatchGetItem on the table, which the api function's `table: 'read'` grants.
    aggregatedView: {
      syncState: new DynamoSyncStateStore({ doc, tableName }),
      statuses: new DynamoStatusStore({ doc, tableName }),
    },
  };
}

function defaultMetricsRenderer(): MetricsRenderer {
  const shared = sharedPromMetrics();
  return shared === undefined ? cloudMetricsRenderer() : promMetricsRenderer(shared);
}
