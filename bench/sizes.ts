/** End-to-end benchmark sizes; a module of its own so `tmc --help` does not load the harness. */

export interface EndToEndSize {
  objects: number;
  clusters: number;
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
 */
export const DEFAULT_LATENCY_PHASE = { objects: 50, rate: 5 };
export const QUICK_LATENCY_PHASE = { objects: 5, rate: 5 };
