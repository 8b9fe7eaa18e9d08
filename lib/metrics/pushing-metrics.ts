import { systemClock, type Clock } from '../ports/clock';
import type { MetricLabels, Metrics } from '../ports/telemetry';
import { PromMetrics } from './prom-metrics';
import { collectTimeseries, type Timeseries } from './remote-write';

/**
 * A Lambda function's metrics on their way to Prometheus: every observation goes to CloudWatch (`emf`) and to this
 * container's own registry, which is pushed by remote-write at the end of each invocation that recorded something
 * (`endInvocation`, awaited by measureInvocation before the function returns, since Lambda freezes the container
 * then). Counters and histograms are cumulative per container and carry an `instance` label naming it, so
 * `sum(rate(x[5m]))` adds containers up and a container that ends simply stops (docs/metrics.md, "Prometheus in
 * the cloud"). A failed push is reported through `onError`, never thrown: the function's work is done.
 */
export class PushingMetrics implements Metrics {
  private readonly registry = new PromMetrics();
  private dirty = false;

  constructor(
    private readonly emf: Metrics & { flush(): void },
    private readonly publisher: { push(series: Timeseries[]): Promise<void> },
    private readonly options: {
      /** This container's `instance` label. */
      instance: string;
      /** Gauges this container pushes; the rollup's go out in its own snapshot push (lib/runtime/metrics-rollup.ts). */
      pushesGauge: (name: string) => boolean;
      onError: (err: unknown) => void;
      now?: Clock;
    },
  ) {}

  increment(name: string, labels: MetricLabels = {}, value = 1): void {
    this.emf.increment(name, labels, value);
    this.registry.increment(name, labels, value);
    this.dirty = true;
  }

  observe(name: string, labels: MetricLabels, value: number): void {
    this.emf.observe(name, labels, value);
    this.registry.observe(name, labels, value);
    this.dirty = true;
  }

  gauge(name: string, labels: MetricLabels, value: number): void {
    this.emf.gauge(name, labels, value);
    if (!this.options.pushesGauge(name)) return;
    this.registry.gauge(name, labels, value);
    this.dirty = true;
  }

  flush(): void {
    this.emf.flush();
  }

  /** Pushes the container's registry when the invocation recorded anything. */
  async endInvocation(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      const series = await collectTimeseries(this.registry.registry, (this.options.now ?? systemClock)());
      for (const s of series) s.labels.instance = this.options.instance;
      await this.publisher.push(series);
    } catch (err) {
      this.options.onError(err);
    }
  }
}
