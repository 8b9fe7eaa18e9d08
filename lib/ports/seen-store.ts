/**
 * Remembers the last object version ingress enqueued, so the same version arriving by admission and by a watch event
 * is enqueued once. Keyed by `objectKey(ref)`; the fingerprint identifies what placement cares about in that version.
 */
export interface SeenStore {
  /**
   * Records `fingerprint` as the latest seen for `key`. Resolves true when it is new (a different fingerprint, none
   * recorded, or the record expired) and false when the same fingerprint is already recorded. A different fingerprint
   * always wins, so a newer version is never dropped.
   */
  markSeen(key: string, fingerprint: string, received?: ReceivedChange): Promise<boolean>;
  /** Drops the record (best effort) after an enqueue failed, so the next delivery of that version is not dropped. */
  forget(key: string, fingerprint: string): Promise<void>;
}

/** The change a fresh version starts: kept with the seen record, it is the `received` step of `tmc trace`. */
export interface ReceivedChange {
  traceId: string;
  /** When ingress built the message (ISO). */
  at: string;
  /** The placement message's reason (`admission`, `event`, `delete`, …). */
  reason: string;
}
