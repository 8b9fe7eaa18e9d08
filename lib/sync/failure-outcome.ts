import { backoffSeconds, type BackoffPolicy } from '../errors/backoff';
import type { TmcError } from '../errors/tmc-error';

/**
 * What sync-apply and status-up do with one failed message. The error's category picks the strategy
 * (lib/errors/tmc-error.ts); this adds the numbers.
 * - `refetch-retry`: read the newest object and try again inside this invocation (bounded by the caller).
 * - `defer`: hide the message for `delaySeconds` (SQS ChangeMessageVisibility) and report it as a batch item failure.
 * - `record-stop`: record the reason where the user sees it and report success: retrying cannot help.
 * - `ignore`: stale or duplicate; success.
 */
export type FailureOutcome =
  | { action: 'refetch-retry' }
  | { action: 'defer'; delaySeconds: number }
  | { action: 'record-stop' }
  | { action: 'ignore' };

export function failureOutcome(
  err: TmcError,
  receiveCount: number,
  options: { policy?: BackoffPolicy; random?: () => number } = {},
): FailureOutcome {
  switch (err.strategy) {
    case 'refetch-retry':
      return { action: 'refetch-retry' };
    case 'record-stop':
      return { action: 'record-stop' };
    case 'ignore':
      return { action: 'ignore' };
    case 'retry-backoff':
    case 'open-circuit':
      // An unreachable cluster is also deferred: the circuit (health-probe) decides failover, and the message must
      // survive until then rather than land in the DLQ after five quick retries.
      return {
        action: 'defer',
        delaySeconds: backoffSeconds(receiveCount, { ...options, retryAfterSeconds: err.retryAfterSeconds }),
      };
  }
}
