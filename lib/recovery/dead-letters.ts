import { createHash } from 'node:crypto';
import { QueueMessageSchema, type QueueMessage } from '../api/messages';
import { describeRef } from '../api/object-ref';
import { backoffSeconds, MAX_VISIBILITY_SECONDS } from '../errors/backoff';
import type { DeadLetter, DeadLetterQueue } from '../ports/dead-letter-queue';
import { act, type RecoverySweepDeps, type RecoverySweepReport } from './deps';

/** Messages read from one DLQ per sweep. */
const PER_SWEEP = 50;

function parse(body: string): QueueMessage | undefined {
  try {
    const parsed = QueueMessageSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Why a dead letter is not a queue message (its first schema issues, e.g. an invalid `ref.workspace`), for its reason. */
function unreadableReason(body: string): string {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return 'the body is not JSON';
  }
  const parsed = QueueMessageSchema.safeParse(raw);
  return parsed.success
    ? 'it could not be read'
    : parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ');
}

function describe(message: QueueMessage | undefined): string {
  if (!message) return 'an unreadable message';
  return message.type === 'sync'
    ? `the ${message.action} of ${describeRef(message.ref)} on ${message.cluster}`
    : `the ${message.type} message of ${describeRef(message.ref)}`;
}

/**
 * The reason a person sees after tmc gives up: the sync item's last error when there is one. For sync messages it is
 * also written on the sync item (state failed) and the kcp object's per-cluster status is refreshed.
 */
async function park(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  queue: DeadLetterQueue,
  letter: DeadLetter,
  message: QueueMessage | undefined,
  attempts: number,
): Promise<void> {
  await queue.hide(letter, MAX_VISIBILITY_SECONDS);
  let reason = `tmc gave up on ${describe(message)} after ${attempts} redrive(s) from the ${queue.name} DLQ`;
  if (!message) reason += `: ${unreadableReason(letter.body)}`;
  if (message?.type === 'sync') {
    const record = await deps.syncState.get(message.ref, message.cluster);
    if (record?.lastError) reason += `: ${record.lastError.message}. ${record.lastError.hint}`;
    // Also when already `failed`: its message says "retrying" (a 503 and its hint), which stops being true here.
    if (record && record.lastError?.message !== reason) {
      const at = new Date(deps.now()).toISOString();
      await deps.syncState.put({
        ...record,
        state: 'failed',
        lastError: {
          category: 'internal',
          message: reason,
          hint: 'Fix the cause, then re-apply the object in kcp (or redrive the DLQ with the AWS console)',
          at,
        },
        updatedAt: at,
      });
    }
    await deps.status?.refresh(message.ref);
  }
  deps.log.error(`Keeping ${describe(message)} in the ${queue.name} DLQ`, { queue: queue.name, reason });
  await act(deps, report, {
    action: 'dlq-park',
    outcome: 'parked',
    why: reason,
    ...(message ? { workspace: message.ref.workspace, ref: message.ref } : {}),
    ...(message?.type === 'sync' ? { cluster: message.cluster } : {}),
  });
}

/**
 * Dead-lettered messages go back to their queue with growing delays; after `maxRedrives` they stay in the DLQ,
 * hidden for 12 hours at a time, and their reason is recorded (DynamoDB, the kcp object's status for sync messages).
 * The redrive count is keyed by the body's hash, which SQS keeps unchanged across redrives.
 */
export async function redriveDeadLetters(deps: RecoverySweepDeps, report: RecoverySweepReport): Promise<void> {
  const now = deps.now();
  for (const queue of deps.deadLetters) {
    let read = 0;
    while (read < PER_SWEEP) {
      const letters = await queue.receive(10, 60);
      if (letters.length === 0) break;
      read += letters.length;
      for (const letter of letters) {
        const key = `dlq|${queue.name}|${createHash('sha256').update(letter.body).digest('hex').slice(0, 32)}`;
        const message = parse(letter.body);
        const retry = await deps.store.retryState(key);
        const attempts = retry?.attempts ?? 0;
        if (!message || attempts >= deps.settings.maxRedrives) {
          if (retry?.reason !== 'parked') {
            await park(deps, report, queue, letter, message, attempts);
            await deps.store.putRetryState(key, {
              attempts,
              nextAt: now,
              lastAt: new Date(now).toISOString(),
              reason: 'parked',
            });
          } else {
            await queue.hide(letter, MAX_VISIBILITY_SECONDS);
          }
          continue;
        }
        if (retry && retry.nextAt > now) {
          await queue.hide(letter, (retry.nextAt - now) / 1000);
          continue;
        }
        // Redrives wait 1, 2, 4 … minutes by default (full jitter, at least the base), up to SQS's 15-minute delay.
        const policy = deps.settings.redriveBackoff;
        const delay = backoffSeconds(attempts + 1, { policy, atLeastBase: true });
        await queue.redrive(letter.body, delay);
        await queue.remove(letter);
        await deps.store.putRetryState(key, {
          attempts: attempts + 1,
          nextAt: now + delay * 1000,
          lastAt: new Date(now).toISOString(),
        });
        await act(deps, report, {
          action: 'dlq-redrive',
          outcome: 'enqueued',
          why: `Redriving ${describe(message)} from the ${queue.name} DLQ (attempt ${attempts + 1} of ${deps.settings.maxRedrives}, in ${delay}s)`,
          workspace: message.ref.workspace,
          ref: message.ref,
          ...(message.type === 'sync' ? { cluster: message.cluster } : {}),
        });
      }
    }
  }
}
