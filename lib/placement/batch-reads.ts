import type { PlacementMessage } from '../api/messages';
import { namespaceRef, objectKey, type ObjectRef } from '../api/object-ref';
import type { ClusterInventory, SyncTargetMirror } from '../ports/cluster-inventory';
import type { DecisionPage, DecisionStore, StoredDecision } from '../ports/decision-store';
import { InvocationCache } from '../ports/invocation-cache';
import type { ClusterInfo } from './types';

/**
 * What one placement invocation reads once instead of once per message: the decisions of its objects and of their
 * namespaces (one BatchGetItem before the first message runs, {@link BatchDecisions.prefetch}) and each workspace's
 * cluster inventory ({@link BatchInventory}). Built per invocation and closed with it, never used by a later one:
 * another container may write between two invocations, and the health system changes clusters' health.
 *
 * Within one invocation this answers what a read would have answered a moment earlier. Every decision write stays
 * conditional on the version it replaces, so a decision another container wrote since the batch read makes this
 * invocation's put fail as stale, exactly as it would after a GetItem; a failed put forgets the key so the next read
 * goes to the table. A put that succeeds is kept, so the invocation's next message about the same object or namespace
 * builds on it instead of reading it back.
 */
export class BatchDecisions implements DecisionStore {
  private readonly decisions = new InvocationCache<StoredDecision | undefined>();

  constructor(private readonly store: DecisionStore) {}

  /** Reads the decisions of the batch's workload objects and of the namespaces they are in, in one request. */
  async prefetch(messages: readonly PlacementMessage[], isWorkload: (ref: ObjectRef) => boolean): Promise<void> {
    const refs: ObjectRef[] = [];
    for (const { ref } of messages) {
      if (!isWorkload(ref)) continue;
      refs.push(ref);
      if (ref.namespace !== undefined) refs.push(namespaceRef(ref.workspace, ref.namespace));
    }
    const unread = refs.filter((ref) => !this.decisions.has(objectKey(ref)));
    if (unread.length === 0) return;
    for (const [key, decision] of await this.store.getMany(unread)) this.decisions.offer(key, decision);
  }

  get(ref: ObjectRef): Promise<StoredDecision | undefined> {
    return this.decisions.read(objectKey(ref), () => this.store.get(ref));
  }

  async put(next: StoredDecision): Promise<void> {
    const key = objectKey(next.ref);
    try {
      await this.store.put(next);
    } catch (err) {
      this.decisions.forget(key);
      throw err;
    }
    this.decisions.wrote(key, next);
  }

  /** The invocation ended. */
  close(): void {
    this.decisions.close();
  }

  getMany(refs: readonly ObjectRef[]): Promise<Map<string, StoredDecision | undefined>> {
    return this.store.getMany(refs);
  }

  listByWorkspace(
    workspace: string,
    options?: { limit?: number; cursor?: string; unscheduledOnly?: boolean },
  ): Promise<DecisionPage> {
    return this.store.listByWorkspace(workspace, options);
  }
}

/**
 * A workspace's clusters listed once per invocation (two Queries on gsi1), not once per message and again for each
 * message's namespace. A SyncTarget change handled in the same invocation (putMirror, deleteMirror) drops the list,
 * so the messages after it see the new mirror.
 */
export class BatchInventory implements ClusterInventory {
  private readonly lists = new InvocationCache<ClusterInfo[]>();

  constructor(private readonly inventory: ClusterInventory) {}

  list(workspace: string): Promise<ClusterInfo[]> {
    return this.lists.read(workspace, () => this.inventory.list(workspace));
  }

  /**
   * Lists the workspaces' clusters beside the batch's decision read, before the first message runs: every workload
   * placement needs them after its kcp read, so listing them then would add a round trip to each batch's latency. A
   * failed list is forgotten (the message that needs it lists again).
   */
  async prefetch(workspaces: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(workspaces)].map((workspace) => this.list(workspace)));
  }

  getMirror(workspace: string, name: string): Promise<SyncTargetMirror | undefined> {
    return this.inventory.getMirror(workspace, name);
  }

  async putMirror(mirror: SyncTargetMirror): Promise<void> {
    this.lists.forget(mirror.workspace);
    await this.inventory.putMirror(mirror);
    this.lists.forget(mirror.workspace);
  }

  async deleteMirror(workspace: string, name: string): Promise<void> {
    this.lists.forget(workspace);
    await this.inventory.deleteMirror(workspace, name);
    this.lists.forget(workspace);
  }

  objectsOn(cluster: string, limit: number): Promise<ObjectRef[]> {
    return this.inventory.objectsOn(cluster, limit);
  }
}
