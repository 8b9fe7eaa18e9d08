import { downstreamNamespace } from '../api/labels';
import type { SyncMessage } from '../api/messages';
import { namespaceRef, objectKey, type ObjectRef } from '../api/object-ref';
import type { KubeObject } from '../ports/kube-client';
import { cloneJson } from '../kube/clone-json';
import {
  syncRecordKey,
  type ClusterListOptions,
  type DecisionView,
  type SyncRecord,
  type SyncStateReads,
  type SyncStateStore,
} from '../ports/sync-state-store';
import { dependencyRefs, type NamespaceCache } from './ensure-dependencies';
import { InvocationCache } from '../ports/invocation-cache';

/**
 * The sync state one sync-apply invocation sees: what its messages need is read in one BatchGetItem before the first
 * message runs ({@link prefetch}), and every later read of the same key is answered from memory. Built per invocation
 * and closed with it, never used by a later one (another container may write between two invocations).
 *
 * Why answering from memory is safe within one invocation:
 * - Decisions are written by placement only, before it sends the message that names them, and the batch is read
 *   after its messages were received: what is read is at least as new as every message of the batch asks for.
 * - Sync records: a write this invocation makes ({@link put}) is kept, so its later messages build on it. A write
 *   another container makes meanwhile is the race a GetItem followed by a conditional Put has too, and the Put's
 *   condition still decides. A Put that fails forgets the key, so the next read goes to the table.
 */
export class BatchSyncState implements SyncStateStore {
  private readonly decisions = new InvocationCache<DecisionView | undefined>();
  private readonly records = new InvocationCache<SyncRecord | undefined>();

  constructor(private readonly store: SyncStateStore) {}

  /**
   * Reads, in one request, the decision and the record of every message's pair, the record of its namespace on that
   * cluster (unless this container has seen the namespace applied) and those of the ConfigMaps, Secrets, … a carried
   * workload references.
   */
  async prefetch(messages: readonly SyncMessage[], namespaces: NamespaceCache): Promise<void> {
    const decisions: ObjectRef[] = [];
    const records: Array<{ ref: ObjectRef; cluster: string }> = [];
    for (const m of messages) {
      decisions.push(m.ref);
      records.push({ ref: m.ref, cluster: m.cluster });
      const ns = m.ref.namespace;
      if (ns !== undefined && !namespaces.has(`${m.cluster}|${downstreamNamespace(m.ref.workspace, ns)}`)) {
        records.push({ ref: namespaceRef(m.ref.workspace, ns), cluster: m.cluster });
      }
      const carried = m.action === 'apply' ? (m.object as KubeObject | undefined) : undefined;
      if (carried) for (const dep of dependencyRefs(m.ref, carried)) records.push({ ref: dep, cluster: m.cluster });
    }
    const unread = {
      decisions: decisions.filter((ref) => !this.decisions.has(objectKey(ref))),
      records: records.filter((k) => !this.records.has(syncRecordKey(k.ref, k.cluster))),
    };
    if (unread.decisions.length + unread.records.length === 0) return;
    const reads = await this.store.readMany(unread);
    for (const [key, decision] of reads.decisions) this.decisions.offer(key, decision);
    for (const [key, record] of reads.records) this.records.offer(key, record);
  }

  decision(ref: ObjectRef): Promise<DecisionView | undefined> {
    return this.decisions.read(objectKey(ref), () => this.store.decision(ref));
  }

  get(ref: ObjectRef, cluster: string): Promise<SyncRecord | undefined> {
    return this.records.read(syncRecordKey(ref, cluster), () => this.store.get(ref, cluster));
  }

  async put(record: SyncRecord): Promise<void> {
    const key = syncRecordKey(record.ref, record.cluster);
    try {
      await this.store.put(record);
    } catch (err) {
      this.records.forget(key);
      throw err;
    }
    this.records.wrote(key, cloneJson(record));
  }

  /** The invocation ended. */
  close(): void {
    this.decisions.close();
    this.records.close();
  }

  listForObject(ref: ObjectRef): Promise<SyncRecord[]> {
    return this.store.listForObject(ref);
  }

  listForCluster(cluster: string, options?: ClusterListOptions): Promise<SyncRecord[]> {
    return this.store.listForCluster(cluster, options);
  }

  knownClusters(): Promise<string[]> {
    return this.store.knownClusters();
  }

  readMany(keys: {
    decisions: readonly ObjectRef[];
    records: ReadonlyArray<{ ref: ObjectRef; cluster: string }>;
  }): Promise<SyncStateReads> {
    return this.store.readMany(keys);
  }
}
