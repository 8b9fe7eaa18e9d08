import { PlacementMessageSchema, type PlacementMessage } from '../api/messages';
import { DynamoClusterInventory } from '../adapters/dynamodb/cluster-inventory';
import { DynamoHealthStore } from '../adapters/dynamodb/health-store';
import { DynamoDecisionStore } from '../adapters/dynamodb/decision-store';
import { KubeConnectorImpl } from '../adapters/kube/kube-connector';
import { SecretsManagerSecretReader } from '../adapters/kube/secret-reader';
import { SqsWorkQueue } from '../adapters/sqs/sqs-work-queue';
import { ConfigurationError } from '../errors/tmc-error';
import { makeInvocationRecorder, type RecordInvocation } from '../health/record-invocation';
import { parseWorkspaces, probeClusters, type ProbeClustersDeps, type ProbeRunReport } from '../health/probe-clusters';
import { makeDynamoDocumentClient, makeSqsClient } from './aws';
import { makeSecretsManagerClient } from './secrets-client';
import { loadConfig, queueUrlOf, tableNameOf, type Environment } from './config';
import { fromPowertools, functionLogger } from './logger';
import { createFunctionMetrics, type FunctionMetrics } from './metrics';
import { measureInvocation } from '../observability/invocation-metrics';
import { observedQueue } from '../observability/counted-queue';
import { noMetrics } from '../ports/telemetry';

export type HealthProbeHandler = () => Promise<ProbeRunReport>;

export interface HealthProbeHandlerDeps extends ProbeClustersDeps {
  recordInvocation: RecordInvocation;
}

/**
 * The handler over injected deps. The run counts as a failed invocation of health-probe only when tmc itself failed
 * (kcp or the table unreachable); clusters being down is what the probe is for.
 */
export function makeHealthProbeHandler(deps: HealthProbeHandlerDeps): HealthProbeHandler {
  return () =>
    measureInvocation(
      deps.metrics ?? noMetrics,
      'health-probe',
      async () => {
        const report = await probeClusters(deps);
        await deps.recordInvocation('health-probe', report.failures.length === 0);
        return report;
      },
      (report) => report.failures.length > 0,
    );
}

/** Seconds between heartbeat writes (`TMC_HEARTBEAT_WRITE_SECONDS`, default 300). */
function heartbeatSeconds(env: Environment): number | undefined {
  const raw = env.TMC_HEARTBEAT_WRITE_SECONDS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new ConfigurationError(`Environment variable TMC_HEARTBEAT_WRITE_SECONDS is invalid: ${raw}`);
  return value;
}

/** Seconds without a syncer heartbeat before a pull-mode cluster counts a failure (`TMC_SYNCER_STALE_AFTER_SECONDS`, default 300). */
function syncerStaleAfter(env: Environment): number | undefined {
  const raw = env.TMC_SYNCER_STALE_AFTER_SECONDS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigurationError(`Environment variable TMC_SYNCER_STALE_AFTER_SECONDS is invalid: ${raw}`);
  return value;
}

/** Builds health-probe's deps from the environment, once per container. */
export function buildHealthProbeDeps(
  env: Environment = process.env,
): HealthProbeHandlerDeps & { metrics: FunctionMetrics } {
  const config = loadConfig(env, { table: true, queues: ['placement'], kcp: true });
  const doc = makeDynamoDocumentClient(config);
  const logger = fromPowertools(functionLogger('health-probe'));
  const store = new DynamoHealthStore(doc, tableNameOf(config));
  const inventory = new DynamoClusterInventory(doc, tableNameOf(config));
  const metrics = createFunctionMetrics('health-probe');
  return {
    connector: new KubeConnectorImpl({
      kcp: config.kcpKubeconfigSecretArn
        ? { secretArn: config.kcpKubeconfigSecretArn }
        : { path: config.kcpKubeconfig ?? '' },
      secrets: new SecretsManagerSecretReader(makeSecretsManagerClient(config)),
    }),
    store,
    placementQueue: observedQueue(
      new SqsWorkQueue<PlacementMessage>({
        sqs: makeSqsClient(config),
        queueUrl: queueUrlOf(config, 'placement'),
        name: 'placement',
        schema: PlacementMessageSchema,
      }),
      metrics,
    ),
    mirrored: async (workspace) => (await inventory.list(workspace)).map((c) => c.name),
    decisions: new DynamoDecisionStore(doc, tableNameOf(config)),
    workspaces: parseWorkspaces(env.TMC_WORKSPACES),
    heartbeatIntervalSeconds: heartbeatSeconds(env),
    syncerStaleAfterSeconds: syncerStaleAfter(env),
    logger,
    metrics,
    recordInvocation: makeInvocationRecorder(store, {
      onError: (err) => logger.warn('Could not record the invocation', { error: String(err) }),
    }),
  };
}
