import { z } from 'zod';
import { JsonPatchOperationSchema, type JsonPatchOperation } from '../api/crds/placement';
import { objectKey, ObjectRefSchema, type ObjectRef } from '../api/object-ref';
import { CATEGORY_RULES, type ErrorCategory } from '../errors/tmc-error';
import type { DecisionReason } from '../placement/types';

/**
 * Lifecycle of one (object, cluster) pair.
 * pending → applied | failed | conflict; deleting → deleted. `failed` and `conflict` carry `lastError`.
 */
export type SyncState = 'pending' | 'applied' | 'failed' | 'conflict' | 'deleting' | 'deleted';

/** Why the last attempt failed, as the user sees it in the kcp object's status. Never request bodies or object data. */
export interface SyncLastError {
  category: ErrorCategory;
  message: string;
  hint: string;
  statusCode?: number;
  at: string;
}

/** `OBJ#<obj>` / `SYNC#<cluster>` (docs/state.md). Hashes and numbers only: never the object (it may be a Secret). */
export interface SyncRecord {
  ref: ObjectRef;
  /** SyncTarget name. */
  cluster: string;
  state: SyncState;
  /** The placement decision this record follows; never goes backwards. */
  decisionVersion: number;
  /** kcp metadata.generation of the applied object (0 when the kind has none). */
  appliedGeneration: number;
  desiredHash?: string;
  appliedHash?: string;
  /** The downstream object's metadata.generation after the apply (maps downstream observedGeneration back). */
  downstreamGeneration?: number;
  downstreamNamespace?: string;
  /** Set by drift detection (recovery-sweep): the next resync applies even when the hash matches. */
  driftReported?: boolean;
  lastError?: SyncLastError;
  updatedAt: string;
  appliedAt?: string;
  /** The change (message trace id) whose apply or delete last wrote this record: `tmc trace` reads its step here. */
  traceId?: string;
}

/** The part of placement's `OBJ#<obj>` / `DECISION` item that sync-apply and status-up read. */
export interface DecisionView {
  decisionVersion: number;
  clusters: Array<{ name: string; replicas?: number; patch?: JsonPatchOperation[] }>;
  /** Whether, and why (not), placement placed the object: what status says about an object placed nowhere. */
  scheduled?: boolean;
  reason?: DecisionReason;
  message?: string;
  /** The Placement that decided: what an override's warning names. */
  placement?: string;
  /** Duplicated or Divided, for an object with replicas: what the aggregate replica counts mean (docs/syncer.md). */
  replicaMode?: 'Duplicated' | 'Divided';
}

/** How {@link SyncStateStore.readMany} names one (object, cluster) record: `<objectKey>#<cluster>`. */
export function syncRecordKey(ref: ObjectRef, cluster: string): string {
  return `${objectKey(ref)}#${cluster}`;
}

/** What {@link SyncStateStore.readMany} answered: an entry per key read (undefined when nothing is stored). */
export interface SyncStateReads {
  /** By `objectKey(ref)`. */
  decisions: Map<string, DecisionView | undefined>;
  /** By {@link syncRecordKey}. */
  records: Map<string, SyncRecord | undefined>;
}

/** How {@link SyncStateStore.listForCluster} bounds its read. */
export interface ClusterListOptions {
  downstreamNamespace?: string;
  limit?: number;
  after?: string;
  prefix?: string;
}

/** Sync state per (object, cluster), plus the placement decision it follows. */
export interface SyncStateStore {
  get(ref: ObjectRef, cluster: string): Promise<SyncRecord | undefined>;
  /** Every cluster's record for one object (one Query on the object's partition). */
  listForObject(ref: ObjectRef): Promise<SyncRecord[]>;
  /**
   * Records on one cluster (GSI `gsi1`, `CLUSTER#<cluster>`), optionally only those in one downstream namespace.
   * A `deleted` record (no copy left) is not on the index: what is listed is what runs there or is on its way. `limit` bounds the items read. Records come in object-key order (`objectKey(ref)`);
   * `after` (an object key) starts after that object, so a caller can carry a cursor from one bounded read to the next;
   * `prefix` keeps to object keys that start with it (one resource type: `typeKeyPrefix`), read by the key condition.
   */
  listForCluster(cluster: string, options?: ClusterListOptions): Promise<SyncRecord[]>;
  /**
   * Writes `record` when it is not older than what is stored: its decisionVersion is higher, or equal with an
   * appliedGeneration not lower. Rejects with StaleGenerationError otherwise.
   */
  put(record: SyncRecord): Promise<void>;
  /** SyncTarget names from placement's mirror (`gsi1pk = CLUSTERS`), for the status backstop. */
  knownClusters(): Promise<string[]>;
  /** Placement's decision for the object, or undefined when none is recorded. */
  decision(ref: ObjectRef): Promise<DecisionView | undefined>;
  /**
   * Many records and decisions at once, strongly consistent like `get` and `decision`, in as few requests as the store
   * allows (a sync-apply batch reads what its messages need this way). A key the store could not answer has no entry.
   */
  readMany(keys: {
    decisions: readonly ObjectRef[];
    records: ReadonlyArray<{ ref: ObjectRef; cluster: string }>;
  }): Promise<SyncStateReads>;
}

const CATEGORY = z.enum(Object.keys(CATEGORY_RULES) as [ErrorCategory, ...ErrorCategory[]]);

/** A {@link SyncRecord} as it crosses a trust boundary (a DynamoDB item, the virtual workspace's wire). */
export const SyncRecordSchema = z.object({
  ref: ObjectRefSchema,
  cluster: z.string(),
  state: z.enum(['pending', 'applied', 'failed', 'conflict', 'deleting', 'deleted']),
  decisionVersion: z.number(),
  appliedGeneration: z.number(),
  desiredHash: z.string().optional(),
  appliedHash: z.string().optional(),
  downstreamGeneration: z.number().optional(),
  downstreamNamespace: z.string().optional(),
  driftReported: z.boolean().optional(),
  lastError: z
    .object({
      category: CATEGORY,
      message: z.string(),
      hint: z.string(),
      statusCode: z.number().optional(),
      at: z.string(),
    })
    .optional(),
  updatedAt: z.string(),
  appliedAt: z.string().optional(),
  traceId: z.string().optional(),
});

/** Why a decision is as it is ({@link DecisionReason}): one list for DynamoDB items and the virtual workspace's wire. */
export const DecisionReasonSchema = z.enum([
  'Scheduled',
  'PartiallyScheduled',
  'Unschedulable',
  'NoMatchingPlacement',
  'NoClusters',
  'DeletionHeld',
  'Deleted',
]) satisfies z.ZodType<DecisionReason>;

/** A {@link DecisionView} on the virtual workspace's wire. */
export const DecisionViewSchema = z.object({
  decisionVersion: z.number(),
  clusters: z.array(
    z.object({
      name: z.string(),
      replicas: z.number().int().nonnegative().optional(),
      patch: z.array(JsonPatchOperationSchema).optional(),
    }),
  ),
  scheduled: z.boolean().optional(),
  reason: DecisionReasonSchema.optional(),
  message: z.string().optional(),
  placement: z.string().optional(),
  replicaMode: z.enum(['Duplicated', 'Divided']).optional(),
});
