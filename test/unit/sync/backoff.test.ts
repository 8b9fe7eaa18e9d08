import { backoffSeconds, DEFAULT_BACKOFF, MAX_VISIBILITY_SECONDS } from '../../../lib/errors/backoff';
import {
  ClusterAuthenticationError,
  ClusterThrottledError,
  ClusterUnavailableError,
  ClusterUnreachableError,
  ConflictError,
  NetworkError,
  PermissionError,
  StaleGenerationError,
  SyncConflictError,
  ValidationError,
  type TmcError,
} from '../../../lib/errors/tmc-error';
import { failureOutcome } from '../../../lib/sync/failure-outcome';

const policy = { baseSeconds: 2, capSeconds: 60 };

describe('backoffSeconds (capped exponential, full jitter)', () => {
  it.each([
    // attempt, random, retryAfter, expected
    [1, 0.999, undefined, 2], // ceiling 2 → floor(0.999*3)=2
    [2, 0.999, undefined, 4],
    [3, 0.999, undefined, 8],
    [6, 0.999, undefined, 60], // 64 capped at 60
    [40, 0.999, undefined, 60], // no overflow
    [3, 0, undefined, 0], // full jitter reaches zero
    [3, 0.5, undefined, 4],
    [1, 0, 30, 30], // Retry-After is a floor
    [1, 0, 600, 60], // … still bounded by the cap
    [5, 0.999, 3, 32], // jitter above Retry-After wins
    [0, 0.999, undefined, 2], // attempt 0 treated as first
  ])('attempt %d random %d retryAfter %s → %d', (attempt, random, retryAfterSeconds, expected) => {
    expect(backoffSeconds(attempt, { policy, random: () => random, retryAfterSeconds })).toBe(expected);
  });

  it('never exceeds the SQS visibility maximum with the default policy', () => {
    for (let a = 1; a < 50; a++)
      expect(backoffSeconds(a, { random: () => 0.9999 })).toBeLessThanOrEqual(
        Math.min(DEFAULT_BACKOFF.capSeconds, MAX_VISIBILITY_SECONDS),
      );
  });
});

describe('failureOutcome (error classification → strategy)', () => {
  const random = (): number => 0.999;
  it.each<[string, string, TmcError, number | undefined]>([
    ['409 conflict', 'refetch-retry', new ConflictError('x', { statusCode: 409 }), undefined],
    ['429 with Retry-After', 'defer', new ClusterThrottledError('x', { statusCode: 429, retryAfterSeconds: 20 }), 20],
    ['503 without Retry-After', 'defer', new ClusterUnavailableError('x', { statusCode: 503 }), 8],
    ['401', 'record-stop', new ClusterAuthenticationError('x', { statusCode: 401 }), undefined],
    ['403', 'record-stop', new PermissionError('x', { statusCode: 403 }), undefined],
    ['422', 'record-stop', new ValidationError('x', { statusCode: 422 }), undefined],
    ['unmanaged object in the way', 'record-stop', new SyncConflictError('x'), undefined],
    ['network', 'defer', new NetworkError('x'), 8],
    ['unreachable', 'defer', new ClusterUnreachableError('x'), 8],
    ['stale', 'ignore', new StaleGenerationError('x'), undefined],
  ])('%s → %s', (_name, action, err, delay) => {
    const outcome = failureOutcome(err, 3, { policy, random });
    expect(outcome.action).toBe(action);
    if (delay !== undefined) expect(outcome).toEqual({ action: 'defer', delaySeconds: delay });
  });
});
