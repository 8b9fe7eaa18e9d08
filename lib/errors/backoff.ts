/**
 * Retry timing shared by every consumer. "Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * the delay is uniform in [0, min(cap, base·2^attempt)], which spreads a thundering herd better than equal or
 * decorrelated jitter at the same mean. A server's Retry-After is a floor: waiting less than it asked only earns
 * another 429.
 */

export interface BackoffPolicy {
  /** Delay scale of the first retry, in seconds. */
  baseSeconds: number;
  /** Largest delay, in seconds. */
  capSeconds: number;
}

/** SQS visibility timeouts go up to 12 hours; tmc's retries should never wait that long for a cluster. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseSeconds: 2, capSeconds: 900 };

/** SQS ChangeMessageVisibility accepts 0..43200 seconds. */
export const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * Seconds to wait before attempt number `attempt` (1 = first retry). `random` is injectable so tests are exact.
 * Retry-After raises the delay to at least what the server asked for, still bounded by the cap. `atLeastBase` keeps a
 * retry the recovery sweep schedules from drawing 0 s, which would have the next sweep ask again at once.
 */
export function backoffSeconds(
  attempt: number,
  options: { policy?: BackoffPolicy; retryAfterSeconds?: number; random?: () => number; atLeastBase?: boolean } = {},
): number {
  const policy = options.policy ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  const exponent = Math.max(0, Math.min(attempt - 1, 30)); // 2^30 is far above any cap; avoids Infinity
  const ceiling = Math.min(policy.capSeconds, policy.baseSeconds * 2 ** exponent);
  const jittered = Math.floor(random() * (ceiling + 1));
  const asked = Math.max(0, Math.ceil(options.retryAfterSeconds ?? 0), options.atLeastBase ? policy.baseSeconds : 0);
  const floor = Math.min(policy.capSeconds, asked);
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(jittered, floor));
}
