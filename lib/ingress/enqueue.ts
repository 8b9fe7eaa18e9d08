import type { PlacementMessage, StatusMessage } from '../api/messages';
import { objectKey, describeRef } from '../api/object-ref';
import { setTimeout as sleep } from 'node:timers/promises';
import { withOwnDeadline } from '../errors/deadline';
import { asTmcError } from '../errors/tmc-error';
import type { IngressDeps } from './deps';

export type EnqueueOutcome = 'enqueued' | 'duplicate';

/**
 * How a placement message is told from a duplicate before it is sent:
 * - `seen`: a conditional write of the version (SeenStore), for tmc's own kinds, which have no decision to compare with;
 * - `placed`: the version the object's decision was made from (PlacedVersions, a read), for a workload's watch event,
 *   which follows the admission of the same write;
 * - `none`: always sent, for a workload's admission: the first delivery of a version, whose decision will record it.
 *   A duplicate that passes costs placement a read and no write (it is level-triggered).
 */
export type Dedup = 'seen' | 'placed' | 'none';

export interface PlacementItem {
  message: PlacementMessage;
  fingerprint: string;
  dedup: Dedup;
}

/** The items whose version placement has already decided on (same fingerprint, same object uid). */
async function alreadyPlaced(deps: IngressDeps, items: readonly PlacementItem[]): Promise<Set<PlacementItem>> {
  const asked = items.filter((item) => item.dedup === 'placed');
  if (asked.length === 0 || !deps.placed) return new Set();
  const placed = await deps.placed.placed(asked.map((item) => item.message.ref));
  return new Set(
    asked.filter(({ message, fingerprint }) => {
      const version = placed.get(objectKey(message.ref));
      return (
        version !== undefined &&
        version.fingerprint === fingerprint &&
        (version.uid === undefined || message.ref.uid === undefined || version.uid === message.ref.uid)
      );
    }),
  );
}

/**
 * Dedup, then enqueue placement messages, all that are fresh in one send (SendMessageBatch takes ten a request). The
 * seen records are written first so a concurrent duplicate (admission and watch event of the same write racing) loses
 * the conditional put; if the send then fails every record of the send is dropped again (some of its messages may have
 * gone out: a duplicate is harmless, a dropped version is not), so the next delivery is not mistaken for a duplicate.
 */
export async function enqueuePlacements(deps: IngressDeps, items: readonly PlacementItem[]): Promise<EnqueueOutcome[]> {
  const placed = await alreadyPlaced(deps, items);
  const fresh = await Promise.all(
    items.map(({ message, fingerprint, dedup }, i) =>
      dedup === 'seen'
        ? deps.seen.markSeen(objectKey(message.ref), fingerprint, {
            traceId: message.trace.traceId,
            at: message.trace.enqueuedAt,
            reason: message.reason,
          })
        : Promise.resolve(!placed.has(items[i])),
    ),
  );
  const sending = items.filter((_, i) => fresh[i]);
  if (sending.length === 0) return fresh.map(() => 'duplicate');
  try {
    await deps.placementQueue.send(sending.map((item) => item.message));
  } catch (err) {
    await Promise.all(
      sending
        .filter(({ dedup }) => dedup === 'seen')
        .map(({ message, fingerprint }) =>
          deps.seen.forget(objectKey(message.ref), fingerprint).catch((forgetErr: unknown) => {
            deps.logger.warn('Could not drop the seen record after a failed enqueue', {
              name: describeRef(message.ref),
              error: asTmcError(forgetErr).toJSON(),
            });
          }),
        ),
    );
    throw err;
  }
  deps.metrics.increment('tmc_messages_enqueued_total', { queue: deps.placementQueue.name }, sending.length);
  return fresh.map((f) => (f ? 'enqueued' : 'duplicate'));
}

/** Dedup, then enqueue one placement message ({@link enqueuePlacements}). */
export async function enqueuePlacement(deps: IngressDeps, item: PlacementItem): Promise<EnqueueOutcome> {
  const [outcome] = await enqueuePlacements(deps, [item]);
  return outcome;
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

/** Waits before the attempts after the first of an enqueue that failed (the webhook has answered by then). */
export const ENQUEUE_RETRY_DELAYS_MS: readonly number[] = [500, 1_000, 2_000, 4_000];

/** The deadline of each attempt after the first, which runs after the answer (its own: {@link withOwnDeadline}). */
export const ENQUEUE_RETRY_ATTEMPT_MS = 15_000;

/**
 * The longest a carried-on enqueue goes on after its admission arrived, in a container that stays alive: the first
 * attempt (bounded by the function's timeout), then each retry's wait and its attempt. Until then its outbox record
 * is its own container's to send or drop (lib/recovery/held-admissions.ts waits this long).
 */
export function carriedSendMaxMs(
  functionTimeoutMs: number,
  delaysMs: readonly number[] = ENQUEUE_RETRY_DELAYS_MS,
): number {
  return functionTimeoutMs + delaysMs.reduce((sum, d) => sum + d + ENQUEUE_RETRY_ATTEMPT_MS, 0);
}

/**
 * One enqueue that may outlive the webhook's answer (fail open): `first` is the first attempt, which the answer waits
 * for up to its deadline; `all` goes on after it — a failed attempt is retried after each of `delaysMs` while its
 * error is retryable — and settles with the first success or the last failure. An admitted write is a real change:
 * the recovery sweep is the backstop for what this loses (the process ends), not the path. Each retry runs under a
 * deadline of its own ({@link ENQUEUE_RETRY_ATTEMPT_MS}), not the answered invocation's: a handler that answered past
 * its deadline under load had every retry cut off at once (and its outbox record kept: docs/recovery.md).
 */
export function enqueueWithRetries<T>(
  attempt: () => Promise<T>,
  delaysMs: readonly number[],
  onRetry: (err: unknown, attempt: number) => void,
): { first: Promise<T>; all: Promise<T> } {
  const first = attempt();
  const all = (async (): Promise<T> => {
    let current = first;
    for (let i = 0; ; i += 1) {
      try {
        return await current;
      } catch (err) {
        if (i >= delaysMs.length || !asTmcError(err).retryable) throw err;
        onRetry(err, i + 2);
        await sleep(delaysMs[i]);
        current = withOwnDeadline(ENQUEUE_RETRY_ATTEMPT_MS, attempt);
      }
    }
  })();
  return { first, all };
}
