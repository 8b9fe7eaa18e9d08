import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PlacementMessageSchema, SyncMessageSchema, type PlacementMessage, type SyncMessage } from '../api/messages';
import { DynamoClusterInventory } from '../adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../adapters/dynamodb/decision-store';
import { KubeConnectorImpl } from '../adapters/kube/kube-connector';
import { SecretsManagerSecretReader } from '../adapters/kube/secret-reader';
import { SqsWorkQueue } from '../adapters/sqs/sqs-work-queue';
import { makePolicySource } from '../placement/policy-source';
import { reconcilePlacement, type PlacementDeps } from '../placement/reconcile';
// Placement never delays a message itself: a failed one is retried after the queue's visibility timeout.
import { noDeferral } from '../ports/message-deferrer';
import { processSqsBatch, receiveCountOf } from '../sync/sqs-batch';
import { fromPowertools } from '../sync/sync-log';
import { makeDynamoDocumentClient, makeSqsClient } from './aws';
import { loadConfig, queueUrlOf, tableNameOf, type Environment } from './config';
import { createLogger } from './logger';
import { createFunctionMetrics, type FunctionMetrics } from './metrics';

export type PlacementHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** The placement handler over injected deps: tests and the local stack call this directly. */
export function makePlacementHandler(deps: PlacementDeps): PlacementHandler {
  return (event) =>
    processSqsBatch(
      event,
      PlacementMessageSchema,
      async (message, record) => {
        await reconcilePlacement({ ...deps, log: deps.log.child({ messageId: record.messageId }) }, message, receiveCountOf(record));
        return { done: true };
      },
      { deferrer: noDeferral, log: deps.log },
    );
}

/** Builds placement's deps from the environment, once per container. */
export function buildPlacementDeps(env: Environment = process.env): PlacementDeps & { metrics: FunctionMetrics } {
  const config = loadConfig(env, { table: true, queues: ['placement', 'sync'], kcp: true });
  const doc = makeDynamoDocumentClient(config);
  const sqs = makeSqsClient(config);
  const tableName = tableNameOf(config);
  const log = fromPowertools(createLogger('placement'));
  const kube = new KubeConnectorImpl({
    kcp: config.kcpKubeconfigSecretArn ? { secretArn: config.kcpKubeconfigSecretArn } : { path: config.kcpKubeconfig ?? '' },
    secrets: new SecretsManagerSecretReader(new SecretsManagerClient({ region: config.region })),
  });
  return {
    kube,
    decisions: new DynamoDecisionStore(doc, tableName),
    inventory: new DynamoClusterInventory(doc, tableName),
    policies: makePolicySource(kube, log),
    syncQueue: new SqsWorkQueue<SyncMessage>({ sqs, queueUrl: queueUrlOf(config, 'sync'), name: 'sync', schema: SyncMessageSchema }),
    placementQueue: new SqsWorkQueue<PlacementMessage>({ sqs, queueUrl: queueUrlOf(config, 'placement'), name: 'placement', schema: PlacementMessageSchema }),
    log,
    metrics: createFunctionMetrics('placement'),
    now: Date.now,
  };
}
