import type { ObjectRef } from '../api/object-ref';
import type { DecisionDiff } from '../placement/diff';
import type { ClusterExplanation, DecisionCluster, DecisionReason, ReplicaMode } from '../placement/types';

/**
 * Placement's record of where one object runs: item `OBJ#<obj>` / `DECISION` (docs/state.md, docs/placement.md).
 * sync-apply reads `decisionVersion` and `clusters[{name, replicas, patch}]`; nothing else is its business.
 */
export interface StoredDecision {
  ref: ObjectRef;
  /** Monotonic: every write is exactly one more than the version it replaces. */
  decisionVersion: number;
  /** The kcp object's metadata.generation (0 for kinds without one) and resourceVersion this decision saw. */
  generation: number;
  resourceVersion?: string;
  uid?: string;
  /** Hash of what sync copies downstream (spec/data, labels, annotations; not status or tmc's labels). */
  contentHash: string;
  clusters: DecisionCluster[];
  scheduled: boolean;
  reason: DecisionReason;
  message: string;
  placement?: string;
  /** Per cluster; large inventories keep the chosen, the best runners-up and a sample of rejections. */
  explanation: ClusterExplanation[];
  /** Clusters the stored explanation leaves out (0 when it is complete). */
  explanationOmitted: number;
  weights: Record<string, number>;
  /** From the decision before this one. */
  diff: DecisionDiff;
  rebalanceToken?: string;
  /** Duplicated or Divided, for an object with replicas (what status aggregation reads). */
  replicaMode?: ReplicaMode;
  decidedAt: string;
  /** The change (placement message trace id) this decision was made for: `tmc trace` reads its `placed` step here. */
  traceId?: string;
  /** The sync work this decision sent, as `tmc trace` shows it (`apply east, delete west`); absent when none. */
  sent?: string;
  /** When ingress received the change this decision was made for (the message's `enqueuedAt`): `tmc trace`'s start. */
  receivedAt?: string;
  /** How that change arrived (the placement message's reason: `admission`, `event`, `delete`, …). */
  receivedReason?: string;
  /**
   * Ingress's fingerprint (lib/ingress/fingerprint.ts) of the kcp object version this decision was made from: a watch
   * event of that version is a duplicate ingress need not enqueue. Absent when placement decided without the object.
   */
  fingerprint?: string;
}

export interface DecisionPage {
  decisions: StoredDecision[];
  /** Pass back to read the next page; undefined on the last page. */
  cursor?: string;
}

export interface DecisionStore {
  get(ref: ObjectRef): Promise<StoredDecision | undefined>;
  /**
   * The decisions of many objects in as few requests as the store allows (strongly consistent, like `get`), keyed by
   * `objectKey(ref)`: the decision, or undefined when none is recorded. A ref the store could not answer has no entry.
   */
  getMany(refs: readonly ObjectRef[]): Promise<Map<string, StoredDecision | undefined>>;
  /**
   * Writes `next` only when the stored decision is at `next.decisionVersion - 1` (absent for version 1) and the
   * stored resourceVersion is not newer. Rejects with StaleGenerationError otherwise: a newer decision won.
   */
  put(next: StoredDecision): Promise<void>;
  /**
   * Decisions of one workspace, a page at a time (gsi1 `DECISIONS#<workspace>`), for Placement and cluster changes.
   * `Deleted` decisions are not on the index: the pages hold objects that exist.
   */
  listByWorkspace(
    workspace: string,
    options?: { limit?: number; cursor?: string; unscheduledOnly?: boolean },
  ): Promise<DecisionPage>;
}

/** The few fields of a decision that say which version of its kcp object it was made from (recovery's catch-up). */
export interface DecisionVersion {
  ref: ObjectRef;
  generation: number;
  uid?: string;
  contentHash: string;
  reason: DecisionReason;
  decidedAt: string;
}

export interface DecisionVersionPage {
  versions: DecisionVersion[];
  /** The object key of the last decision read when more follow (pass it as `after` next time); undefined at the end. */
  last?: string;
}

/** Reads decisions' versions in object-key order, without their explanations (a projection of gsi1 `DECISIONS#<workspace>`). */
export interface DecisionVersionReader {
  /**
   * Up to `limit` decisions of the workspace whose object key sorts after `after` (from the start without it);
   * `Deleted` decisions are not listed.
   */
  listVersions(workspace: string, options: { limit: number; after?: string }): Promise<DecisionVersionPage>;
}
