import { describeRef } from '../api/object-ref';
import { act, type RecoverySweepDeps, type RecoverySweepReport } from './deps';

/** Held admissions sent per sweep; the rest wait for the next one. */
const PER_RUN = 100;

/**
 * Admissions the webhook answered before their enqueue finished, whose container died before the carried-on send
 * landed (lib/ingress/admission.ts records each in the outbox first): sent to placement now, then forgotten. One that
 * did land meanwhile arrives twice, which placement takes as a no-op. Idle cost: one Query of an empty partition.
 */
export async function sendHeldAdmissions(deps: RecoverySweepDeps, report: RecoverySweepReport): Promise<void> {
  if (!deps.outbox) return;
  const due = await deps.outbox.due(deps.now() - deps.settings.heldAdmissionGraceSeconds * 1000, PER_RUN);
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
