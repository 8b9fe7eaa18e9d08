import type { ObjectRef } from '../api/object-ref';
import type { ClusterStatusRecord, StatusStore } from './status-store';
import type { DecisionView, SyncRecord, SyncStateStore } from './sync-state-store';

/**
 * What status reporting reads of one object (docs/state.md, partition `OBJ#<obj>`): placement's decision, every
 * cluster's sync record and every cluster's last reported status.
 */
export interface ObjectSnapshot {
  /** Undefined when placement recorded none. */
  decision: DecisionView | undefined;
  syncRecords: SyncRecord[];
  statuses: ClusterStatusRecord[];
}

/** Reads an {@link ObjectSnapshot}, strongly consistent like the stores' own reads of its parts. */
export interface ObjectSnapshotReader {
  read(ref: ObjectRef): Promise<ObjectSnapshot>;
}

/**
 * The snapshot from the stores' own reads: three requests where a single-read adapter (DynamoObjectSnapshotReader)
 * makes one. For callers that hold only the stores (in-memory fakes, functions not yet wired to the adapter).
 */
export function snapshotFromStores(syncState: SyncStateStore, statusStore: StatusStore): ObjectSnapshotReader {
  return {
    read: async (ref) => {
      const [decision, syncRecords, statuses] = await Promise.all([
        syncState.decision(ref),
        syncState.listForObject(ref),
        statusStore.listForObject(ref),
      ]);
      return { decision, syncRecords, statuses };
    },
  };
}
