/** End-to-end benchmark sizes; a module of its own so `tmc --help` does not load the harness. */

export interface EndToEndSize {
  objects: number;
  clusters: number;
}

/** `200 × 3`, or `200 × 3 pull` for a pull-mode run. */
export function sizeLabel(size: { objects: number; clusters: number; pull?: boolean }): string {
  return `${size.objects} × ${size.clusters}${size.pull ? ' pull' : ''}`;
}

/** The sizes: 10,000 × 3, and 10 and 50 clusters with fewer objects so the default stays near ten minutes. */
export const DEFAULT_SIZES: EndToEndSize[] = [
  { objects: 10_000, clusters: 3 },
  { objects: 1_000, clusters: 10 },
  { objects: 200, clusters: 50 },
];
export const QUICK_SIZES: EndToEndSize[] = [{ objects: 20, clusters: 3 }];

/**
 * The paced latency phase (bench/e2e/scenario.ts): Deployments (each with a ConfigMap) created one write at a time at
 * `rate` writes per second, well below the stack's measured throughput, so it measures the path, not a queue.
 * Every write is one sync per cluster, so unless told otherwise the rate is set per size from a budget of object·cluster
 * syncs per second (about a third of the ≈50 a second measured on 2 cores): 5 writes/s at 3 clusters, 1.5 at 10, 0.3
 * at 50 — a fixed 5 writes/s at 50 clusters offered 250 syncs/s and measured a queue. The object count follows, so
 * the phase takes about 20 s (at least 5 objects, at most 50).
 */
export const DEFAULT_LATENCY_PHASE = { objects: 50, rate: 5 };
export const QUICK_LATENCY_PHASE = { objects: 5, rate: 5 };
export const LATENCY_SYNC_BUDGET_PER_SECOND = 15;

export interface PacedLatencyPhase {
  objects: number;
  rate: number;
}

/** The paced phase for one size: what was given, else derived from the sync budget (see above). */
export function pacedLatencyPhase(
  clusters: number,
  given: { objects?: number; rate?: number },
  quick = false,
): PacedLatencyPhase {
  const defaults = quick ? QUICK_LATENCY_PHASE : DEFAULT_LATENCY_PHASE;
  const rate =
    given.rate ??
    Math.min(defaults.rate, Math.round((LATENCY_SYNC_BUDGET_PER_SECOND / Math.max(1, clusters)) * 10) / 10);
  // Two writes per object (its ConfigMap and Deployment): about 20 s of writes.
  const objects =
    given.objects ?? Math.max(Math.min(5, defaults.objects), Math.min(defaults.objects, Math.round(rate * 10)));
  return { objects, rate };
}
