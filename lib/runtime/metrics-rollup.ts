import { systemClock, type Clock } from '../ports/clock';
import type { Log } from '../observability/log';
import { makeInvocationRecorder, type RecordInvocation } from '../health/record-invocation';
import { DynamoCircuitStore } from '../adapters/dynamodb/circuit-store';
import { DynamoHealthStore } from '../adapters/dynamodb/health-store';
import { DynamoSyncStateStore } from '../adapters/dynamodb/sync-state-store';
import { DynamoRollupSources } from '../adapters/dynamodb/rollup-sources';
import { PromMetrics } from '../metrics/prom-metrics';
import { collectTimeseries, RemoteWritePublisher, type Timeseries } from '../metrics/remote-write';
import { sigv4Fetch } from '../adapters/prometheus/sigv4-fetch';
import { remoteWriteTargetFromEnv } from '../metrics/remote-write-config';
import {
  computeRollup,
  publishGauges,
  type CensusMemory,
  type GaugeSample,
  type RollupSources,
} from '../metrics/rollup';
import { SqsQueueDepths } from '../adapters/sqs/sqs-queue-depths';
import { measureInvocation } from '../observability/invocation-metrics';
import type { Metrics } from '../ports/telemetry';
import { makeDynamoDocumentClient, makeSqsClient } from './aws';
import { dlqUrlOf, loadConfig, queueUrlOf, tableNameOf, type Environment } from './config';
import { fromPowertools, functionLogger } from './logger';
import { createFunctionMetrics, sharedPromMetrics, type FunctionMetrics } from './metrics';
import { QUEUES, type QueueName } from './resources';

export interface MetricsRollupReport {
  gauges: number;
  /** Series pushed by remote-write; undefined when no target is configured. */
  pushed?: number;
  pushError?: string;
}

export interface MetricsRollupDeps {
  sources: RollupSources;
  /** Where the gauges are published: CloudWatch EMF in Lambda, the shared registry on the local stack. */
  metrics: Metrics;
  /**
   * The registry remote-write pushes. Locally the shared one, so every function's counters go too. In Lambda each
   * function's counters go to CloudWatch, not to a registry, so only the rollup's gauges are pushed (docs/metrics.md).
   * Called once per run.
   */
  registry: () => PromMetrics;
  publisher?: { push(series: Timeseries[]): Promise<void> };
  log: Log;
  now?: Clock;
  /** Counts the run for component health (/health); none when omitted. */
  recordInvocation?: RecordInvocation;
  /** The container's last census of sync items (lib/metrics/rollup.ts); without it every run reads them all. */
  census?: CensusMemory;
}

export type MetricsRollupHandler = () => Promise<MetricsRollupReport>;

/**
 * One rollup run: compute the snapshot, publish it, push by remote-write when configured. A failed push is logged and
 * counted, never thrown: the EMF gauges are already out, and the next run pushes a fresh snapshot.
 */
export function makeMetricsRollupHandler(deps: MetricsRollupDeps): MetricsRollupHandler {
  return () =>
    measureInvocation(
      deps.metrics,
      'metrics-rollup',
      async () => {
        const now = (deps.now ?? systemClock)();
        const snapshot = await computeRollup(deps.sources, now, deps.census);
        const registry = deps.registry();
        for (const name of new Set(snapshot.map((g) => g.name))) registry.resetGauge(name);
        publishGauges(snapshot, deps.metrics);
        if (registry !== sharedPromMetrics()) publishGauges(snapshot, registry);
        const report: MetricsRollupReport = { gauges: snapshot.length };
        if (deps.publisher !== undefined) {
          // One collection time for all samples: a retried push resends identical samples, which Prometheus keeps once.
          const series = await collectTimeseries(registry.registry, now);
          try {
            await deps.publisher.push(series);
            report.pushed = series.length;
            deps.metrics.increment('tmc_remote_write_pushes_total', { result: 'ok' });
          } catch (err) {
            report.pushError = err instanceof Error ? err.message : String(err);
            deps.metrics.increment('tmc_remote_write_pushes_total', { result: 'error' });
            deps.log.error('Pushing metrics by remote-write failed', { error: report.pushError });
          }
        }
        deps.log.info('Metrics rolled up', { ...summary(snapshot), ...report });
        return report;
      },
      undefined,
      deps.recordInvocation,
    );
}

function summary(snapshot: readonly GaugeSample[]): Record<string, number> {
  const pick = (name: string, label: string, value: string): number =>
    snapshot.find((g) => g.name === name && g.labels[label] === value)?.value ?? 0;
  return {
    unhealthyClusters: pick('tmc_clusters', 'state', 'Unhealthy'),
    pendingObjects: pick('tmc_objects', 'state', 'pending'),
  };
}

/** Builds metrics-rollup's deps from the environment, once per container. */
export function buildMetricsRollupDeps(
  env: Environment = process.env,
): MetricsRollupDeps & { metrics: FunctionMetrics } {
  const queueNames = Object.keys(QUEUES) as QueueName[];
  const config = loadConfig(env, { table: true, queues: queueNames, dlqs: queueNames });
  const doc = makeDynamoDocumentClient(config);
  const tableName = tableNameOf(config);
  const logger = fromPowertools(functionLogger('metrics-rollup'));
  const target = remoteWriteTargetFromEnv(env);
  const queues = new SqsQueueDepths(
    makeSqsClient(config),
    queueNames.map((name) => ({ name, url: queueUrlOf(config, name), dlqUrl: dlqUrlOf(config, name) })),
  );
  return {
    sources: new DynamoRollupSources({
      doc,
      tableName,
      health: new DynamoHealthStore(doc, tableName),
      circuits: new DynamoCircuitStore(doc, tableName),
      mirror: new DynamoSyncStateStore({ doc, tableName }),
      queues,
    }),
    metrics: createFunctionMetrics('metrics-rollup'),
    census: {},
    // In Lambda a fresh registry per run: gauges of a removed cluster must not linger in a warm container.
    registry: () => sharedPromMetrics() ?? new PromMetrics(),
    publisher:
      target === undefined
        ? undefined
        : new RemoteWritePublisher(target, {
            signedFetch: target.auth.type === 'sigv4' ? sigv4Fetch(target.auth) : undefined,
          }),
    log: logger,
    recordInvocation: makeInvocationRecorder(new DynamoHealthStore(doc, tableName), {
      onError: (err) => logger.warn('Could not record the invocation', { error: String(err) }),
    }),
  };
}
