import { z } from 'zod';
import type { MetricLabels, Metrics } from '../ports/telemetry';
import { metricDefinition } from './catalog';

/**
 * Metrics recorded in one thread and applied to a registry in another: the local stack runs some functions in worker
 * threads (their own "Lambda containers", lib/local/function-runtime.ts) while the one Prometheus registry that
 * /metrics serves, metrics-rollup pushes and the benchmark reads lives on the main thread.
 *
 * Push rather than prom-client's AggregatorRegistry: that one is built for `cluster` workers and pulls every
 * worker's registry on each scrape, summing gauges across them; a worker's counts would die with the worker (a crash,
 * a stop), and every read of the main registry (the benchmark's snapshots read `registry` directly) would have to
 * become a round trip. Forwarded updates make the main registry the only one, complete once a batch has arrived.
 */

export const MetricUpdate = z.object({
  kind: z.enum(['increment', 'observe', 'gauge']),
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  value: z.number(),
});
export type MetricUpdate = z.infer<typeof MetricUpdate>;

const KIND_TYPE = { increment: 'counter', observe: 'histogram', gauge: 'gauge' } as const;

/**
 * A Metrics that queues each update and hands the queue to `send` once per tick (so a burst of updates crosses the
 * thread as one message), or at once with `flush` (before an invocation's result is posted, and before the thread
 * stops, so nothing is lost and the counts are in the registry when the caller sees the result).
 */
export class ForwardingMetrics implements Metrics {
  private pending: MetricUpdate[] = [];
  private scheduled = false;

  constructor(private readonly send: (updates: MetricUpdate[]) => void) {}

  increment(name: string, labels: MetricLabels = {}, value = 1): void {
    this.push({ kind: 'increment', name, labels, value });
  }

  observe(name: string, labels: MetricLabels, value: number): void {
    this.push({ kind: 'observe', name, labels, value });
  }

  gauge(name: string, labels: MetricLabels, value: number): void {
    this.push({ kind: 'gauge', name, labels, value });
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.send(batch);
  }

  private push(update: MetricUpdate): void {
    // Checked here, as PromMetrics would: a metric missing from the catalog fails the function that records it,
    // not the thread that applies the batch later.
    const def = metricDefinition(update.name);
    if (def.type !== KIND_TYPE[update.kind])
      throw new Error(`Metric ${update.name} is a ${def.type}, not a ${KIND_TYPE[update.kind]}`);
    this.pending.push({ ...update, labels: { ...update.labels } });
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }
}

/** Applies forwarded updates to `target` in their order. */
export function applyMetricUpdates(target: Metrics, updates: readonly MetricUpdate[]): void {
  for (const update of updates) {
    if (update.kind === 'increment') target.increment(update.name, update.labels, update.value);
    else if (update.kind === 'observe') target.observe(update.name, update.labels, update.value);
    else target.gauge(update.name, update.labels, update.value);
  }
}
