import { DynamoHealthStore } from '../adapters/dynamodb/health-store';
import { DynamoDecisionStore } from '../adapters/dynamodb/decision-store';
import { DynamoStatusCredentialStore } from '../adapters/dynamodb/status-credential-store';
import { DynamoSyncStateStore } from '../adapters/dynamodb/sync-state-store';
import { KubeConnectorImpl } from '../adapters/kube/kube-connector';
import { SecretsManagerSecretReader } from '../adapters/kube/secret-reader';
import { SqsWorkQueue } from '../adapters/sqs/sqs-work-queue';
import {
  PlacementMessageSchema,
  StatusMessageSchema,
  type PlacementMessage,
  type StatusMessage,
} from '../api/messages';
import { StatusCredentialAuthenticator } from '../auth/status-credentials';
import { makeSyncerApiHandler, type SyncerApiDeps, type SyncerApiHandler } from '../vw/syncer-api';
import { makeDynamoDocumentClient, makeSqsClient } from './aws';
import { loadConfig, queueUrlOf, tableNameOf, type Environment } from './config';
import { fromPowertools, functionLogger } from './logger';
import { SYNCER_FEED } from './resources';
import { makeSecretsManagerClient } from './secrets-client';

export { makeSyncerApiHandler, type SyncerApiHandler };

/** Builds the virtual-workspace function's deps (the syncers' view) from the environment, once per container. */
export function buildVirtualWorkspaceDeps(env: Environment = process.env): SyncerApiDeps {
  const config = loadConfig(env, { table: true, queues: ['status', 'placement'], kcp: true });
  const doc = makeDynamoDocumentClient(config);
  const tableName = tableNameOf(config);
  const sqs = makeSqsClient(config);
  const logger = fromPowertools(functionLogger('virtual-workspace'));
  return {
    syncState: new DynamoSyncStateStore({ doc, tableName }),
    kube: new KubeConnectorImpl({
      kcp: config.kcpKubeconfigSecretArn
        ? { secretArn: config.kcpKubeconfigSecretArn }
        : { path: config.kcpKubeconfig ?? '' },
      secrets: new SecretsManagerSecretReader(makeSecretsManagerClient(config)),
    }),
    health: new DynamoHealthStore(doc, tableName),
    statusQueue: new SqsWorkQueue<StatusMessage>({
      sqs,
      queueUrl: queueUrlOf(config, 'status'),
      name: 'status',
      schema: StatusMessageSchema,
    }),
    placementQueue: new SqsWorkQueue<PlacementMessage>({
      sqs,
      queueUrl: queueUrlOf(config, 'placement'),
      name: 'placement',
      schema: PlacementMessageSchema,
    }),
    decisions: new DynamoDecisionStore(doc, tableName),
    ...(env[SYNCER_FEED.env.url] ? { feedUrl: env[SYNCER_FEED.env.url] } : {}),
    authenticator: new StatusCredentialAuthenticator(
      new DynamoStatusCredentialStore(doc, tableName, { kind: 'SYNCERCRED' }),
    ),
    logger,
  };
}
