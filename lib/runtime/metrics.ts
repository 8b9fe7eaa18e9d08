import { createHash, randomUUID } from 'node:crypto';
import type { Metrics } from '../ports/telemetry';
import { sigv4Fetch } from '../adapters/prometheus/sigv4-fetch';
import { EmfMetrics } from '../metrics/emf-metrics';
import type { PromMetrics } from '../metrics/prom-metrics';
import { PushingMetrics } from '../metrics/pushing-metrics';
import { RemoteWritePublisher } from '../metrics/remote-write';
import { remoteWriteTargetFromEnv } from '../metrics/remote-write-config';
import { ROLLUP_GAUGES } from '../metrics/rollup';
import { createLogger } from './logger';

/**
 * Where a function's metrics go. In Lambda: CloudWatch EMF (flushed after each invocation). On the local stack all
 * functions share the stack's Prometheus registry, installed with `useSharedMetrics` before any handler is imported;
 * a function running in its own worker thread records into `useForwardedMetrics`'s sink, which sends each update to
 * that registry on the main thread (lib/metrics/forwarded-metrics.ts).
 */
export interface FunctionMetrics extends Metrics {
  flush(): void;
}

let shared: PromMetrics | undefined;
let forwarded: Metrics | undefined;

/** Called by the local stack: every function in this process records into one registry served at /metrics. */
export function useSharedMetrics(metrics: PromMetrics | undefined): void {
  shared = metrics;
}

/**
 * Called in a function's worker thread of the local stack (lib/local/function-container.ts) before its handler is
 * imported. The registry itself stays on the main thread: `sharedPromMetrics()` is undefined here.
 */
export function useForwardedMetrics(metrics: Metrics | undefined): void {
  forwarded = metrics;
}

/** The local stack's shared registry, when one is installed (the rollup pushes it; /metrics serves it). */
export function sharedPromMetrics(): PromMetrics | undefined {
  return shared;
}

/**
 * A name for this container, stable for its life: Lambda gives each execution environment its own log stream, so a
 * hash of that names it without putting the stream's name in every series.
 */
function containerInstance(functionName: string, env: Record<string, string | undefined>): string {
  const stream = env.AWS_LAMBDA_LOG_STREAM_NAME ?? randomUUID();
  return `${functionName}-${createHash('sha256').update(stream).digest('hex').slice(0, 10)}`;
}

export function createFunctionMetrics(
  functionName: string,
  env: Record<string, string | undefined> = process.env,
): FunctionMetrics {
  const registry: Metrics | undefined = shared ?? forwarded;
  if (registry) {
    return {
      increment: (n, l, v): void => registry.increment(n, l, v),
      observe: (n, l, v): void => registry.observe(n, l, v),
      gauge: (n, l, v): void => registry.gauge(n, l, v),
      flush: (): void => undefined,
    };
  }
  const emf = new EmfMetrics(env.TMC_METRICS_NAMESPACE ?? 'tmc', functionName);
  const target = remoteWriteTargetFromEnv(env);
  if (target === undefined) return emf;
  const publisher = new RemoteWritePublisher(target, {
    signedFetch: target.auth.type === 'sigv4' ? sigv4Fetch(target.auth) : undefined,
    attempts: 2,
  });
  return new PushingMetrics(emf, publisher, {
    instance: containerInstance(functionName, env),
    pushesGauge: (name) => functionName !== 'metrics-rollup' && !ROLLUP_GAUGES.has(name),
    // The publisher's message names the endpoint's host and its answer, never credentials.
    onError: (err) =>
      createLogger(functionName).warn('Pushing metrics by remote-write failed', {
        error: err instanceof Error ? err.message : String(err),
      }),
  });
}
