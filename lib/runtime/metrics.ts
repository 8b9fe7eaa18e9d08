import type { Metrics } from '../ports/telemetry';
import { EmfMetrics } from '../metrics/emf-metrics';
import type { PromMetrics } from '../metrics/prom-metrics';

/**
 * Where a function's metrics go. In Lambda: CloudWatch EMF (flushed after each invocation). On the local stack all
 * functions share the stack's Prometheus registry, installed with `useSharedMetrics` before any handler is imported.
 */
export interface FunctionMetrics extends Metrics {
  flush(): void;
}

let shared: PromMetrics | undefined;

/** Called by the local stack: every function in this process records into one registry served at /metrics. */
export function useSharedMetrics(metrics: PromMetrics | undefined): void {
  shared = metrics;
}

/** The local stack's shared registry, when one is installed (the rollup pushes it; /metrics serves it). */
export function sharedPromMetrics(): PromMetrics | undefined {
  return shared;
}

export function createFunctionMetrics(functionName: string): FunctionMetrics {
  if (shared) {
    const registry = shared;
    return {
      increment: (n, l, v): void => registry.increment(n, l, v),
      observe: (n, l, v): void => registry.observe(n, l, v),
      gauge: (n, l, v): void => registry.gauge(n, l, v),
      flush: (): void => undefined,
    };
  }
  const emf = new EmfMetrics(process.env.TMC_METRICS_NAMESPACE ?? 'tmc', functionName);
  return emf;
}
