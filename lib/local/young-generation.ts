/**
 * The young generation of the local stack's worker threads (the functions', dynalite's, fauxqs'), in MiB: about
 * 64 MiB semi-spaces (V8 sizes the young generation at three semi-spaces), so a burst of requests' short-lived garbage
 * (decoded events and bodies, SDK requests and responses) dies young instead of being promoted and collected again in
 * the old generation. The main thread gets the same from `--max-semi-space-size=64` (`npm start`, the benchmark).
 */
export const WORKER_YOUNG_GENERATION_MB = 192;

/** A Worker's resourceLimits for `mb` (0: V8's default). */
export function youngGenerationLimits(mb: number): { resourceLimits?: { maxYoungGenerationSizeMb: number } } {
  return mb > 0 ? { resourceLimits: { maxYoungGenerationSizeMb: mb } } : {};
}
