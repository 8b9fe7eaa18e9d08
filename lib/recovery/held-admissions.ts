import { describeRef } from '../api/object-ref';
import { carriedSendMaxMs, ENQUEUE_RETRY_ATTEMPT_MS } from '../ingress/enqueue';
import { FUNCTIONS } from '../runtime/resources';
import { act, type RecoverySweepDeps, type RecoverySweepReport } from './deps';

/**
 * A held admission younger than this may still be sent, and its record dropped, by its own container: the first
 * attempt within the function's timeout, four retries each on a deadline of their own, then the record's delete on
 * one more (lib/ingress/enqueue.ts): 10 s + 7.5 s of waits + 5 × 15 s = 92.5 s, so 93 s. It was 30 s, shorter than
 * a live container's retries: under load a send still being retried was sent a second time and counted as a repair.
 */
export const HELD_ADMISSION_GRACE_SECONDS = Math.ceil(
  (carriedSendMaxMs(FUNCTIONS.ingress.timeoutSeconds * 1000) + ENQUEUE_RETRY_ATTEMPT_MS) / 1000,
);
/** Held admissions sent per sweep; the rest wait for the next one. */
const PER_RUN = 100;

/**
 * Admissions the webhook answered before their enqueue finished, whose container died before the carried-on send
 * landed (lib/ingress/admission.ts records each in the outbox first): sent to placement now, then forgotten. One that
 * did land meanwhile arrives twice, which placement takes as a no-op. Idle cost: one Query of an empty partition.
 */
export async function sendHeldAdmissions(deps: RecoverySweepDeps, report: RecoverySweepReport): Promise<void> {
  if (!deps.outbox) return;
  const due = await deps.outbox.due(deps.now() - HELD_ADMISSION_GRACE_SECONDS * 1000, PER_RUN);
  if (due.length === 0) return;
  deps.log.warn(`Sending ${due.length} admission(s) whose enqueue never finished`, { count: due.length });
  await deps.placementQueue.send(due);
  for (const message of due) {
    await deps.outbox.release(message);
    await act(deps, report, {
      action: 'resync-unplaced',
      outcome: 'enqueued',
      why: `The admission of ${describeRef(message.ref)} (${message.trace.enqueuedAt}) was answered before its enqueue finished, and the send never landed`,
      workspace: message.ref.workspace,
      ref: message.ref,
    });
  }
}
