import type { Metrics } from '../ports/telemetry';
import { EmfMetrics } from '../metrics/emf-metrics';
import type { PromMetrics } from '../metrics/prom-metrics';

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

export function createFunctionMetrics(functionName: string): FunctionMetrics {
  const registry: Metrics | undefined = shared ?? forwarded;
  if (registry) {
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
