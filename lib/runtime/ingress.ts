import { DynamoAdmissionOutbox } from '../adapters/dynamodb/admission-outbox';
import { makeBatchedInvocationRecorder } from '../health/record-invocation';
import { DynamoHealthStore } from '../adapters/dynamodb/health-store';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  PlacementMessageSchema,
  StatusMessageSchema,
  type PlacementMessage,
  type StatusMessage,
} from '../api/messages';
import { validateTmcObject } from '../api/crds';
import { DynamoPlacedVersions, DynamoSeenStore } from '../adapters/dynamodb/seen-store';
import { SqsWorkQueue } from '../adapters/sqs/sqs-work-queue';
import { StatusCredentialAuthenticator } from '../auth/status-credentials';
import { WebhookAuthenticator } from '../auth/webhook-authenticator';
import { DynamoStatusCredentialStore } from '../adapters/dynamodb/status-credential-store';
import { fromApiGatewayEvent, toApiGatewayResult } from '../ingress/api-gateway';
import type { IngressDeps } from '../ingress/deps';
import { errorResponse } from '../ingress/http';
import { createIngress } from '../ingress/ingress';
import { makeDynamoDocumentClient, makeSqsClient } from './aws';
import { loadConfig, queueUrlOf, tableNameOf, type Environment } from './config';
import { fromPowertools, functionLogger } from './logger';
import { webhookTokenSource } from './webhook-tokens';
import { createFunctionMetrics, type FunctionMetrics } from './metrics';
import { isServerError, measureInvocation } from '../observability/invocation-metrics';

export type IngressHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** The handler over injected deps: tests and the local stack call this directly. */
export function makeIngressHandler(deps: IngressDeps): IngressHandler {
  const ingress = createIngress(deps);
  return async (event) => {
    const request = fromApiGatewayEvent(event);
    if (!request) return toApiGatewayResult(errorResponse(404, 'NotFound', `No webhook at ${event.rawPath}`));
    return measureInvocation(
      deps.metrics,
      'ingress',
      async () => toApiGatewayResult(await ingress.handle(request)),
      isServerError,
      deps.recordInvocation,
    );
  };
}

/** Builds ingress's deps from the environment, once per container. */
export function buildIngressDeps(env: Environment = process.env): IngressDeps & { metrics: FunctionMetrics } {
  const config = loadConfig(env, { table: true, queues: ['placement', 'status'], webhookTokens: true });
  const doc = makeDynamoDocumentClient(config);
  const sqs = makeSqsClient(config);
  const logger = fromPowertools(functionLogger('ingress'));
  return {
    authenticator: new WebhookAuthenticator(webhookTokenSource(config)),
    statusCredentials: new StatusCredentialAuthenticator(new DynamoStatusCredentialStore(doc, tableNameOf(config))),
    // Ingress counts its own enqueues (lib/ingress/enqueue.ts); the decision placement writes starts each change's trace.
    placementQueue: new SqsWorkQueue<PlacementMessage>({
      sqs,
      queueUrl: queueUrlOf(config, 'placement'),
      name: 'placement',
      schema: PlacementMessageSchema,
    }),
    statusQueue: new SqsWorkQueue<StatusMessage>({
      sqs,
      queueUrl: queueUrlOf(config, 'status'),
      name: 'status',
      schema: StatusMessageSchema,
    }),
    seen: new DynamoSeenStore({ doc, tableName: tableNameOf(config) }),
    placed: new DynamoPlacedVersions(doc, tableNameOf(config)),
    outbox: new DynamoAdmissionOutbox(doc, tableNameOf(config)),
    validate: validateTmcObject,
    logger,
    metrics: createFunctionMetrics('ingress'),
    recordInvocation: makeBatchedInvocationRecorder(new DynamoHealthStore(doc, tableNameOf(config)), {
      onError: (err) => logger.warn('Could not record the invocation', { error: String(err) }),
    }),
  };
}
