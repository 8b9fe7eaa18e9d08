import type { PlacementMessage } from '../api/messages';

/**
 * Placement messages of admissions that the webhook answered before their enqueue finished (fail open). Each is
 * recorded before the answer and forgotten once its send lands; one whose container died first (the carried-on send
 * lost with it) is still recorded, and the recovery sweep sends it (lib/recovery/held-admissions.ts).
 */
export interface AdmissionOutbox {
  /** Records the message (without any carried object); resolves once it is durable. */
  hold(message: PlacementMessage): Promise<void>;
  /** Its send landed: forgets it (deleting what is already gone succeeds). */
  release(message: PlacementMessage): Promise<void>;
  /** Messages recorded before `before` (epoch ms), oldest first, at most `limit`. */
  due(before: number, limit: number): Promise<PlacementMessage[]>;
}
