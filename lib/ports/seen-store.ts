import type { ObjectRef } from '../api/object-ref';

/**
 * Remembers the last version of one of tmc's own objects (SyncTarget, Placement, Location: kinds placement keeps no
 * decision for) ingress enqueued, so the same version arriving by admission and by a watch event is enqueued once.
 * Keyed by `objectKey(ref)`; the fingerprint identifies what placement cares about in that version.
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

/** The version of an object placement's decision was made from (the decision's `fingerprint` and `uid`). */
export interface PlacedVersion {
  fingerprint: string;
  uid?: string;
}

/**
 * What placement last decided on, for ingress's dedup of a workload's watch events: an event of the version the
 * decision was made from needs no message. Read, not written: a workload's change costs ingress no write.
 */
export interface PlacedVersions {
  /**
   * Keyed by `objectKey(ref)`: the version each object's decision was made from; no entry when the object has no
   * decision, or a decision that records none. Strongly consistent, so a newer decision is never read as an older one.
   */
  placed(refs: readonly ObjectRef[]): Promise<Map<string, PlacedVersion>>;
}
