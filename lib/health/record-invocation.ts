import { systemClock, type Clock } from '../ports/clock';
import type { HealthStore } from '../ports/health-store';

/**
 * Counts one invocation of a function for component health (`COMPONENT#<fn>/HEALTH`): one UpdateItem with ADD.
 * Never throws — health bookkeeping must not fail the work it describes; a failed write is passed to `onError`.
 */
export type RecordInvocation = (fn: string, ok: boolean, options?: { backlogAgeSeconds?: number }) => Promise<void>;

export function makeInvocationRecorder(
  store: HealthStore,
  options: { now?: Clock; onError?: (err: unknown) => void } = {},
): RecordInvocation {
  const now = options.now ?? systemClock;
  return async (fn, ok, extra = {}) => {
    try {
      await store.recordInvocation(fn, { ok, at: now(), backlogAgeSeconds: extra.backlogAgeSeconds });
    } catch (err) {
      options.onError?.(err);
    }
  };
}

/**
 * A recorder for functions invoked often (ingress per webhook request, the queue consumers per batch): counts in
 * memory and writes the counts at most once per `intervalMs` per container, so component health costs one write per
 * container per interval instead of one per invocation (and no hot item under load). The first invocation, and the
 * first failure after successes, are written at once so /health turns Unknown → Healthy and notices errors without
 * waiting. Lambda freezes a container between invocations, so the write happens inside an invocation, never on a
 * timer.
 */
export function makeBatchedInvocationRecorder(
  store: HealthStore,
  options: { intervalMs?: number; now?: Clock; onError?: (err: unknown) => void } = {},
): RecordInvocation {
  const now = options.now ?? systemClock;
  const intervalMs = options.intervalMs ?? 10_000;
  const pending = new Map<
    string,
    { invocations: number; errors: number; lastFlushAt: number | undefined; failing: boolean }
  >();
  return async (fn, ok, extra = {}) => {
    const at = now();
    const entry = pending.get(fn) ?? { invocations: 0, errors: 0, lastFlushAt: undefined, failing: false };
    pending.set(fn, entry);
    entry.invocations += 1;
    if (!ok) entry.errors += 1;
    const newlyFailing = !ok && !entry.failing;
    entry.failing = !ok;
    if (entry.lastFlushAt !== undefined && at - entry.lastFlushAt < intervalMs && !newlyFailing) return;
    const report = {
      ok,
      at,
      invocations: entry.invocations,
      errors: entry.errors,
      backlogAgeSeconds: extra.backlogAgeSeconds,
    };
    entry.invocations = 0;
    entry.errors = 0;
    entry.lastFlushAt = at;
    try {
      await store.recordInvocation(fn, report);
    } catch (err) {
      // Counted again with the next report rather than lost.
      entry.invocations += report.invocations;
      entry.errors += report.errors;
      options.onError?.(err);
    }
  };
}
