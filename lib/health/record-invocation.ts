import type { HealthStore } from '../ports/health-store';

/**
 * Counts one invocation of a function for component health (`COMPONENT#<fn>/HEALTH`): one UpdateItem with ADD.
 * Never throws — health bookkeeping must not fail the work it describes; a failed write is passed to `onError`.
 */
export type RecordInvocation = (fn: string, ok: boolean, options?: { backlogAgeSeconds?: number }) => Promise<void>;

export function makeInvocationRecorder(store: HealthStore, options: { now?: () => number; onError?: (err: unknown) => void } = {}): RecordInvocation {
  const now = options.now ?? Date.now;
  return async (fn, ok, extra = {}) => {
    try {
      await store.recordInvocation(fn, { ok, at: now(), backlogAgeSeconds: extra.backlogAgeSeconds });
    } catch (err) {
      options.onError?.(err);
    }
  };
}
