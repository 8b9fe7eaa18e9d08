import type { ObjectRef } from '../api/object-ref';

/** What the recovery manager did. Names are metric label values (`tmc_recovery_actions_total{action}`). */
export type RecoveryActionKind =
  | 'failover'
  | 'cleanup'
  | 'resync-stuck'
  | 'resync-unplaced'
  | 'resync-unsynced'
  | 'resync-partial'
  | 'drift'
  | 'orphan-delete'
  | 'dlq-redrive'
  | 'dlq-park'
  | 'deletion-hold'
  | 'deletion-confirm';
export type RecoveryOutcome = 'enqueued' | 'sent' | 'succeeded' | 'skipped' | 'held' | 'released' | 'failed' | 'parked';

/** `RECOVERY#<yyyy-mm-dd>` / `<iso-time>#<id>`: one action, what, why and how it ended. Never object data. */
export interface RecoveryAction {
  action: RecoveryActionKind;
  outcome: RecoveryOutcome;
  /** A sentence a person can act on: why tmc did it. */
  why: string;
  at: string;
  workspace?: string;
  cluster?: string;
  ref?: ObjectRef;
}

/**
 * `CLEANUP#<cluster>` / `OBJ#<obj>`: a copy left on a cluster its object failed over from. It is deleted only once
 * the replacement is ready and the cluster answers again (graceful failover, docs/recovery.md).
 */
export interface PendingCleanup {
  cluster: string;
  ref: ObjectRef;
  since: string;
  /** When the sweep sent the delete to sync-apply (resent if nothing happened for a while). */
  sentAt?: string;
}

/** `RETRY#<key>` / `RETRY`: backoff state of one recovery retry (a stuck sync, a dead-lettered message). */
export interface RetryState {
  attempts: number;
  /** Epoch ms before which the next attempt is not made. */
  nextAt: number;
  lastAt: string;
  /** Why the last attempt was needed (shown when tmc gives up). */
  reason?: string;
}

/**
 * `GUARD#<scope>` / `HOLD` (gsi1 `GUARDS` / scope): deletions tmc refused to make because they looked like an API
 * outage (too many, or too large a share, of one resource type's objects at once). Kept until a person confirms, the
 * same deletions are planned again after a delay, or the sweep no longer plans any there.
 * Scopes (lib/recovery/deletion-guard.ts): `cluster:<name>/<workspace>/<gvr>` (orphan sweep),
 * `workspace:<path>/<gvr>` (objects that vanished from kcp); older items may name `workspace:<path>` or `cluster:<name>`.
 */
export interface DeletionHold {
  scope: string;
  reason: string;
  planned: number;
  total: number;
  raisedAt: string;
  /** Objects whose deletion waits (bounded); re-examined after confirmation. */
  refs: ObjectRef[];
  confirmedAt?: string;
  confirmedBy?: string;
  /** Epoch ms until which deletions in this scope go ahead without the share check. */
  confirmedUntil?: number;
  /** Identifies the set of deletions last planned (a hash of their identities): "the same answer". */
  fingerprint?: string;
  /** When that same set was first planned (ISO time); planned again `recheckSeconds` later, it goes ahead. */
  answerSince?: string;
  /**
   * Per held deletion (`<object key>|<uid>`, at most the held refs' bound), since when every sweep has planned it
   * (epoch ms): one planned without a break for `recheckSeconds` goes ahead even while newer ones keep the hold.
   */
  plannedSince?: Record<string, number>;
}

/**
 * `ABSENT#<obj>` / `ABSENT`: an object a complete, successful read of kcp found absent (not in the list of its type,
 * and a direct GET answered NotFound). Its copies are deleted only when a later read confirms it (docs/recovery.md).
 */
export interface Absence {
  ref: ObjectRef;
  /** Epoch ms of the first read that found it absent. */
  firstSeenAt: number;
  /**
   * The sweep run that made the first sighting: only a sighting of another, later run confirms it (two reads of one
   * run are one sighting, however far apart). Absent on records written before runs were named: any run confirms.
   */
  firstSeenRun?: string;
  /** Epoch ms of the later read that confirmed it; placement then removes the object's decision too. */
  confirmedAt?: number;
}

/** One removal a decision planned and the un-placement gate counted (lib/recovery/deletion-guard.ts). */
export interface PlannedRemoval {
  ref: ObjectRef;
  /** Epoch ms when it was first planned. */
  firstSeenAt: number;
}

/** The recovery manager's state in the table (docs/state.md). */
export interface RecoveryStore {
  record(action: RecoveryAction): Promise<void>;
  /** The newest actions of one UTC day (`yyyy-mm-dd`), newest first. */
  actions(day: string, limit: number): Promise<RecoveryAction[]>;
  /** Records a left-behind copy; an existing record (and its `since`) is kept. */
  deferCleanup(cleanup: PendingCleanup): Promise<void>;
  pendingCleanups(cluster: string, limit: number): Promise<PendingCleanup[]>;
  markCleanupSent(cluster: string, ref: ObjectRef, at: string): Promise<void>;
  dropCleanup(cluster: string, ref: ObjectRef): Promise<void>;
  retryState(key: string): Promise<RetryState | undefined>;
  putRetryState(key: string, state: RetryState): Promise<void>;
  clearRetryState(key: string): Promise<void>;
  hold(scope: string): Promise<DeletionHold | undefined>;
  putHold(hold: DeletionHold): Promise<void>;
  /**
   * Records a new hold only where the scope has none (a conditional write): false when another invocation raised one
   * first, so a hold raised by many at once is recorded and reported once.
   */
  createHold(hold: DeletionHold): Promise<boolean>;
  holds(): Promise<DeletionHold[]>;
  clearHold(scope: string): Promise<void>;
  /**
   * `GUARD#<scope>` / `REMOVAL#<obj>`: a removal placement planned (an `unplace:` scope) or a confirmed vanish it
   * would delete (a `workspace:` scope), counted before it is made.
   * Records it at `at` unless it is already recorded since `since` (epoch ms); returns when it was first planned.
   */
  noteRemoval(scope: string, ref: ObjectRef, at: number, since: number): Promise<number>;
  /** The removals planned in the scope since `since` (epoch ms), each once, with when they were first planned. */
  plannedRemovals(scope: string, since: number): Promise<PlannedRemoval[]>;
  /**
   * `CURSOR#<key>` / `CURSOR`: the object key after which the next sweep resumes reading a cluster's sync items
   * (undefined: from the start). Clusters with more items than one sweep reads are covered over successive runs.
   */
  sweepCursor(key: string): Promise<string | undefined>;
  /** Stores the cursor; undefined removes it (the next run starts from the beginning). */
  putSweepCursor(key: string, after: string | undefined): Promise<void>;
  /**
   * Objects placement has decided in the workspace (a COUNT query on gsi1 `DECISIONS#<workspace>`), or with `type`
   * only those of one resource type (the same query on the sort key's prefix).
   */
  countObjects(workspace: string, type?: { group: string; resource: string }): Promise<number>;
  absence(ref: ObjectRef): Promise<Absence | undefined>;
  putAbsence(absence: Absence): Promise<void>;
  /** Forgets an absence (the object is back); deleting what is not there succeeds. */
  clearAbsence(ref: ObjectRef): Promise<void>;
}
