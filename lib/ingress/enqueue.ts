import type { PlacementMessage, StatusMessage } from '../api/messages';
import { objectKey, describeRef } from '../api/object-ref';
import { asTmcError } from '../errors/tmc-error';
import type { IngressDeps } from './deps';

export type EnqueueOutcome = 'enqueued' | 'duplicate';

/**
 * Dedup, then enqueue one placement message. The seen record is written first so a concurrent duplicate (admission and
 * watch event of the same write racing) loses the conditional put; if the send then fails the record is dropped again,
 * so the next delivery of that version is not mistaken for a duplicate.
 */
export async function enqueuePlacement(deps: IngressDeps, message: PlacementMessage, fingerprint: string): Promise<EnqueueOutcome> {
  const key = objectKey(message.ref);
  const fresh = await deps.seen.markSeen(key, fingerprint, { traceId: message.trace.traceId, at: message.trace.enqueuedAt, reason: message.reason });
  if (!fresh) return 'duplicate';
  try {
    await deps.placementQueue.send([message]);
  } catch (err) {
    await deps.seen.forget(key, fingerprint).catch((forgetErr: unknown) => {
      deps.logger.warn('Could not drop the seen record after a failed enqueue', { name: describeRef(message.ref), error: asTmcError(forgetErr).toJSON() });
    });
    throw err;
  }
  deps.metrics.increment('tmc_messages_enqueued_total', { queue: deps.placementQueue.name });
  return 'enqueued';
}

export async function enqueueStatus(deps: IngressDeps, message: StatusMessage): Promise<void> {
  await deps.statusQueue.send([message]);
  deps.metrics.increment('tmc_messages_enqueued_total', { queue: deps.statusQueue.name });
}

export class DeadlineExceeded extends Error {
  constructor(readonly ms: number) {
    super(`deadline of ${ms} ms exceeded`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * Resolves with `work`'s result, or rejects with DeadlineExceeded after `ms`. The work is not cancelled (the SDK call
 * may still land); the timer is cleared so a Lambda invocation does not wait for it.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(ms)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
