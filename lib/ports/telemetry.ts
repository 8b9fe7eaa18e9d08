/**
 * Metrics as the domain sees them: Prometheus-style names and labels (`tmc_sync_operations_total{result,cluster}`).
 * Adapters publish them as CloudWatch EMF in Lambda, and as /metrics text and remote-write on the local stack.
 */
export type MetricLabels = Record<string, string>;

export interface Metrics {
  /** Adds to a counter (names end in `_total`). */
  increment(name: string, labels?: MetricLabels, value?: number): void;
  /** Records one observation of a histogram (seconds, bytes). */
  observe(name: string, labels: MetricLabels, value: number): void;
  /** Sets a gauge. */
  gauge(name: string, labels: MetricLabels, value: number): void;
  /** Sends what the invocation recorded where it must leave before the function returns (remote-write in Lambda). */
  endInvocation?(): Promise<void>;
}

/** A Metrics that records nothing, for tests that do not look at metrics. */
export const noMetrics: Metrics = {
  increment: (): void => undefined,
  observe: (): void => undefined,
  gauge: (): void => undefined,
};
