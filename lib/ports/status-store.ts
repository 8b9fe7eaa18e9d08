import type { ObjectRef } from '../api/object-ref';

/** Kinds whose status is never stored: Secrets (nothing of a Secret's is copied anywhere) and status-less kinds. */
export const STATUSLESS_KINDS: ReadonlySet<string> = new Set(['Secret', 'ConfigMap', 'ServiceAccount']);

/** `OBJ#<obj>` / `STATUS#<cluster>` (docs/state.md): the downstream `.status` one cluster last reported. */
export interface ClusterStatusRecord {
  ref: ObjectRef;
  cluster: string;
  status: Record<string, unknown>;
  /** The downstream object's resourceVersion; compared as a number so late messages never regress the record. */
  resourceVersion: string;
  /**
   * 'read' when `resourceVersion` is the object's as read (after its write); absent when it is an admission report's
   * base version (before the write). The store orders the two kinds by it; not stored itself.
   */
  resourceVersionOf?: 'read';
  observedAt: string;
  /** The status message's trace id (the cluster's report), for `tmc trace` and a log search of this leg. */
  traceId?: string;
  /**
   * When the cluster's report was made (ISO), if before `observedAt` (a queued webhook report): a report made before
   * the copy was removed is not stored for it. Not stored itself.
   */
  reportedAt?: string;
}

export interface StatusStore {
  /**
   * Stores `record` unless one of the same or a later version is there (a read at version n is later than a report of
   * the write onto n, earlier than one onto n+1), or the copy was removed after the report was made. Resolves 'stale'
   * then (a late or duplicate message), never throws for it.
   */
  put(record: ClusterStatusRecord): Promise<'written' | 'stale'>;
  /**
   * One cluster's stored record, or undefined. Eventually consistent (half a read unit): the backstop only uses it to
   * skip a write when nothing changed, and the conditional put still orders whatever it does write.
   */
  get(ref: ObjectRef, cluster: string): Promise<ClusterStatusRecord | undefined>;
  /**
   * Many objects' records on one cluster, eventually consistent like `get`, in as few requests as the store allows (the
   * backstop compares a cluster's recent objects this way). Keyed by `objectKey(ref)`: the record, or undefined when
   * none is stored; a key the store could not answer has no entry (read it with `get`).
   */
  getMany(refs: readonly ObjectRef[], cluster: string): Promise<Map<string, ClusterStatusRecord | undefined>>;
  listForObject(ref: ObjectRef): Promise<ClusterStatusRecord[]>;
  /** Forgets a cluster's status (the object was removed from that cluster). */
  delete(ref: ObjectRef, cluster: string): Promise<void>;
}
