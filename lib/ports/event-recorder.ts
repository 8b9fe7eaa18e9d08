import type { ObjectRef } from '../api/object-ref';

/** One moment users read with `kubectl describe`: a core/v1 Event on the kcp object. */
export interface ObjectEvent {
  type: 'Normal' | 'Warning';
  /** PascalCase, like kube's (`Applied`, `SyncConflict`, `ClusterConfiguration`). */
  reason: string;
  /** Never Secret data: callers pass messages already made safe for a Secret. */
  message: string;
}

/**
 * Records Events on kcp objects, aggregated and rate-limited as kube's event recorder does: a repeat of the same
 * event on the same object raises its `count` instead of adding an Event. Best effort: an event that cannot be written
 * is dropped and never fails the work it describes.
 */
export interface EventRecorder {
  record(ref: ObjectRef, event: ObjectEvent): Promise<void>;
}
