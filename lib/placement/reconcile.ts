import type { Clock } from '../ports/clock';
import { MAX_CARRIED_MESSAGE_BYTES, type PlacementMessage, type SyncMessage } from '../api/messages';
import { describeRef, gvrKey, namespaceRef, objectKey, type ObjectRef } from '../api/object-ref';
import { stateLabelPatch, SYNC_FINALIZER } from '../api/labels';
import {
  LOCATION_RESOURCE,
  PLACEMENT_RESOURCE,
  SCHEDULING_GROUP,
  SYNC_TARGET_GROUP,
  SYNC_TARGET_RESOURCE,
  SyncTargetSchema,
} from '../api/crds';
import { InternalError, NotFoundError, StaleGenerationError } from '../errors/tmc-error';
import type { ClusterInventory } from '../ports/cluster-inventory';
import type { DecisionStore, StoredDecision } from '../ports/decision-store';
import type { KubeClient, KubeConnector, KubeObject } from '../ports/kube-client';
import type { RecoveryStore } from '../ports/recovery-store';
import type { SyncStateStore } from '../ports/sync-state-store';
import type { Metrics } from '../ports/telemetry';
import type { RemovalGuard, VanishedObjectGuard } from '../recovery/deletion-guard';
import type { WorkQueue } from '../ports/work-queue';
import type { InvocationCache } from '../ports/invocation-cache';
import type { EventRecorder } from '../ports/event-recorder';
import { decisionEvent } from './decision-events';
import type { StatusRefresher } from '../ports/status-refresher';
import type { Log } from '../observability/log';
import { contentKeyFor, type ContentKeySource } from '../kube/canonical-hash';
import { placementFingerprint } from '../ingress/fingerprint';
import { contentHash } from './content-hash';
import { diffDecisions, type DecisionDiff } from './diff';
import { decide, isNamespace } from './engine';
import { mirrorOf } from './mirror';
import { placementStatusPatch } from './placement-status';
import { holdGuardedRemovals, type GatedDecision } from './removal-gate';
import { type PlannedLeave, removalsFollowingNamespaces } from './removal-plan';
import type { PolicySource } from './policy-source';
import type { ClusterExplanation, DecideInput, Decision } from './types';
import { isDefinitionRef, resumeCustomResources } from './resume-custom-resources';

/** Everything the placement use case talks to; built once per container (lib/runtime/placement.ts). */
export interface PlacementDeps {
  kube: KubeConnector;
  decisions: DecisionStore;
  inventory: ClusterInventory;
  policies: PolicySource;
  syncQueue: WorkQueue<SyncMessage>;
  placementQueue: WorkQueue<PlacementMessage>;
  log: Log;
  metrics: Metrics;
  now: Clock;
  /** Waits between in-process re-reads of a change kcp has not stored yet; {@link QUICK_REREAD_DELAYS_MS} by default. */
  rereadDelaysMs?: readonly number[];
  /** Upper bound of placement messages one cluster or policy change fans out (the recovery sweep's resync covers the rest). */
  fanoutLimit?: number;
  /**
   * Graceful failover (docs/recovery.md): a cluster dropped because it is Unhealthy past evictAfter or tainted
   * NoExecute keeps its copy; the recovery sweep deletes it once the replacement is ready. Without this dep the copy
   * is deleted at once, as for any other removal.
   */
  evictions?: Pick<RecoveryStore, 'deferCleanup'>;
  /** Asked before removing an object that vanished from kcp without a deletionTimestamp (the mass-deletion guard). */
  deletionGuard?: VanishedObjectGuard;
  /** Asked before a decision removes an object from a cluster: a mass un-placement is held like a mass deletion. */
  removalGuard?: RemovalGuard;
  /**
   * The copies sync-apply recorded, read only for an object being deleted whose finalizer is still held: one no
   * decision places anywhere (its `Deleted` decision expired, or it was never placed), or whose `Deleted` decision's
   * deletes are sent again. A copy left is deleted before the finalizer is released.
   * Absent: the finalizer is released at once (tests of the decision alone).
   */
  copies?: Pick<SyncStateStore, 'listForObject'>;
  /**
   * Where each namespace runs, as an earlier message of the same invocation placed it (`<workspace>/<namespace>`).
   * Built per invocation (lib/runtime/placement.ts) and never kept longer: within one invocation the inventory and
   * policies are the same for every message, so placing the namespace again would decide the same and only race
   * the other messages' conditional writes. Absent: every message places its namespace itself.
   */
  namespacePlacements?: InvocationCache<NamespacePlacement | undefined>;
  /** The key a Secret's content hash is made with (lib/kube/canonical-hash.ts); read only for Secrets. */
  contentKey: ContentKeySource;
  /**
   * Refreshes the kcp object's status when a decision changes and no apply follows (placed nowhere, moved only off
   * clusters, kept by a failover with nowhere to go): sync-apply's refresh after an apply covers the rest. Absent: no
   * refresh (tests of the decision alone).
   */
  status?: StatusRefresher;
  /** Events on the kcp object for a decision users should see: placed, failed over, placed nowhere, held (absent: none). */
  events?: EventRecorder;
}

/**
 * Where an object's namespace runs and the labels of the Namespace that decision was made from. An object is placed
 * with these labels, never with a cached Namespace older than its namespace's decision: a relabelled namespace moves
 * and re-places its objects at once, and an object placed with the labels from before would decide "nothing to
 * do" and never move (the policy source keeps a Namespace for seconds, in every container).
 */
export interface NamespacePlacement {
  clusters: string[];
  labels: Record<string, string>;
}

/** Clusters the engine rejected for health or a NoExecute taint: their removal is a failover, not a policy change. */
function evictedClusters(decision: Decision): Set<string> {
  return new Set(
    decision.explanation
      .filter((e) => !e.chosen && (e.rejectedBy === 'health' || e.rejectedBy === 'taints'))
      .map((e) => e.cluster),
  );
}

/**
 * A failover with nowhere to go keeps the object where it runs: when the only reason it would be placed nowhere is
 * that its clusters are being evacuated (Unhealthy past evictAfter, a NoExecute taint) and no other cluster fits, the
 * decision keeps those clusters, unscheduled, with a message saying so. Deleting the last copies of a workload because
 * its cluster is unwell would turn a degraded service into an outage. The recovery sweep keeps asking (with backoff),
 * and the first decision that finds a healthy cluster moves it there.
 */
export function keepWhenNowhereToGo(
  decision: Decision,
  previous: Pick<StoredDecision, 'clusters' | 'reason'> | undefined,
): Decision {
  if (decision.clusters.length > 0 || decision.reason !== 'Unschedulable' || !previous?.clusters.length)
    return decision;
  const evicted = evictedClusters(decision);
  const kept = previous.clusters.filter((c) => evicted.has(c.name));
  if (kept.length === 0) return decision;
  const names = kept.map((c) => c.name).join(', ');
  return {
    ...decision,
    clusters: kept,
    message: `No cluster to fail over to: kept on ${names} until one fits. ${decision.message}`,
  };
}

export type ReconcileOutcome =
  /** `object`: the kcp object the decision was made from, when it exists and is not being deleted. */
  | {
      result: 'placed' | 'unchanged' | 'stale' | 'absent';
      writes: number;
      messages: number;
      decision?: StoredDecision;
      object?: KubeObject;
    }
  /**
   * `confirmation`: waits for the recovery sweep to confirm an absence or for the deletion gate's count, neither of
   * which a read a few milliseconds later can change (no quick re-read, {@link QUICK_REREAD_DELAYS_MS}).
   */
  | { result: 'pending'; writes: 0; messages: 0; delaySeconds: number; waitsFor?: 'confirmation' }
  | { result: 'cluster-updated' | 'cluster-removed' | 'policy-updated'; writes: number; messages: number };

/**
 * An admission webhook runs before the API server stores the change, so its message can reach placement before kcp
 * serves it: after a CREATE a 404 means "not yet", not "deleted"; after a DELETE an object without a
 * deletionTimestamp means "not marked yet". Such a message is retried this many times (1, 2 and 3 s apart) before the
 * change is taken to have been refused by a later admission step (and what kcp holds is the truth). Fewer than the
 * queue's maxReceiveCount minus one: each retry is a delivery, and the last must stay for a transient failure.
 */
export const NOT_YET_STORED_RETRIES = 3;

function notYetStored(
  message: PlacementMessage,
  receiveCount: number,
  expected: 'admission' | 'delete',
): ReconcileOutcome | undefined {
  if (message.reason !== expected || receiveCount > NOT_YET_STORED_RETRIES) return undefined;
  return { result: 'pending', writes: 0, messages: 0, delaySeconds: receiveCount };
}

/**
 * The same race for an UPDATE (and a CREATE of tmc's own kinds, whose admission carries no object): kcp may still
 * serve the version the request started from, `message.resourceVersion`, or nothing. Only admission messages: a watch
 * event names the version kcp already stored.
 */
function awaitingAdmittedWrite(
  message: PlacementMessage,
  current: KubeObject | undefined,
  receiveCount: number,
  previous?: StoredDecision,
  key?: Uint8Array,
): ReconcileOutcome | undefined {
  if (message.reason !== 'admission' || receiveCount > NOT_YET_STORED_RETRIES) return undefined;
  const requested = message.resourceVersion ?? '';
  const stored = current?.metadata.resourceVersion;
  if (
    current === undefined ||
    (requested !== '' && stored === requested) ||
    showsOnlyDecided(message, current, previous, key)
  )
    return { result: 'pending', writes: 0, messages: 0, delaySeconds: receiveCount };
  return undefined;
}

const generationOf = (object: KubeObject): number =>
  typeof object.metadata.generation === 'number' ? object.metadata.generation : 0;

/**
 * True when kcp still serves exactly what the last decision saw while the admitted UPDATE brings something else: the
 * resourceVersion moved only because tmc's own write (status, state labels) landed in between, so the user's change
 * is not stored yet. Taking that version for the change would decide "nothing to do" and lose the update until the
 * sweep. The request carried its object (compared by content) or, for a scale, the generation it started from.
 */
function showsOnlyDecided(
  message: PlacementMessage,
  current: KubeObject,
  previous: StoredDecision | undefined,
  key: Uint8Array | undefined,
): boolean {
  if (!previous || previous.reason === 'Deleted' || current.metadata.deletionTimestamp) return false;
  const sameAsDecided =
    previous.contentHash === contentHash(current, key) &&
    previous.generation === generationOf(current) &&
    (previous.uid === undefined || previous.uid === current.metadata.uid);
  if (!sameAsDecided) return false;
  const carried = message.object; // never a Secret (ingress does not carry them)
  if (carried)
    return !carried.metadata.deletionTimestamp && contentHash(carried as KubeObject, key) !== previous.contentHash;
  return message.generation !== undefined && generationOf(current) <= message.generation;
}

/** An object whose Namespace kcp answered 404 for is placed again this much later (SQS visibility). */
const NAMESPACE_RECHECK_SECONDS = 2;

/** An object kcp answered 404 for, without a confirmed absence, is read again this much later (SQS visibility). */
export const VANISHED_RECHECK_SECONDS = 30;

/** Explanations of this many clusters are stored whole; beyond, the chosen, the best runners-up and a sample. */
const EXPLANATION_LIMIT = 100;

export function compactExplanation(all: ClusterExplanation[]): { explanation: ClusterExplanation[]; omitted: number } {
  if (all.length <= EXPLANATION_LIMIT) return { explanation: all, omitted: 0 };
  const chosen = all.filter((e) => e.chosen);
  const runnersUp = all
    .filter((e) => !e.chosen && e.scores)
    .sort((a, b) => b.total - a.total)
    .slice(0, 20);
  const rejected = all
    .filter((e) => e.rejectedBy)
    .slice(0, Math.max(0, EXPLANATION_LIMIT - chosen.length - runnersUp.length));
  const kept = [...chosen, ...runnersUp, ...rejected];
  return { explanation: kept, omitted: all.length - kept.length };
}

const isNamespaceRef = (ref: ObjectRef): boolean => ref.group === '' && ref.resource === 'namespaces';
const isSyncTarget = (ref: ObjectRef): boolean =>
  ref.group === SYNC_TARGET_GROUP && ref.resource === SYNC_TARGET_RESOURCE;
const isPolicy = (ref: ObjectRef): boolean =>
  ref.group === SCHEDULING_GROUP && (ref.resource === PLACEMENT_RESOURCE || ref.resource === LOCATION_RESOURCE);
/** A ref placement places (anything but a SyncTarget, a Placement or a Location): it reads the ref's decision. */
export const isWorkloadRef = (ref: ObjectRef): boolean => !isSyncTarget(ref) && !isPolicy(ref);

function resourceName(ref: ObjectRef): {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name: string;
} {
  return { group: ref.group, version: ref.version, resource: ref.resource, namespace: ref.namespace, name: ref.name };
}

function rvOf(value: string | undefined): number | undefined {
  return value && /^[0-9]{1,15}$/.test(value) ? Number(value) : undefined;
}

/**
 * The carried object is used when it is at least as new as what the last decision saw; otherwise kcp is read. Never
 * from admission: a mutating webhook sees the object before the API server bumps its generation (and, on CREATE,
 * before it has a uid), so downstream objects would carry the previous generation and observedGeneration would never
 * catch up. Watch events carry what kcp stored.
 */
function carriedIsCurrent(message: PlacementMessage, previous: StoredDecision | undefined): boolean {
  const carried = message.object;
  if (!carried || message.reason === 'delete' || message.reason === 'admission') return false;
  const rv = rvOf(typeof carried.metadata.resourceVersion === 'string' ? carried.metadata.resourceVersion : undefined);
  if (rv === undefined) return false; // admission CREATE: not stored yet, no version; read what kcp holds
  // A copy of the very object whose delete was decided (a cache from before it went): kcp may hold a new one by now.
  if (previous?.reason === 'Deleted' && previous.uid !== undefined && carried.metadata.uid === previous.uid)
    return false;
  const seen = rvOf(previous?.resourceVersion);
  return seen === undefined || rv >= seen;
}

function carriable(object: KubeObject): KubeObject | undefined {
  if (object.kind === 'Secret') return undefined; // Secret data never travels in a message
  const { managedFields: _m, ...metadata } = object.metadata;
  const slim = { ...object, metadata };
  return Buffer.byteLength(JSON.stringify(slim)) <= MAX_CARRIED_MESSAGE_BYTES / 2 ? slim : undefined;
}

function syncMessage(
  message: PlacementMessage,
  ref: ObjectRef,
  cluster: string,
  action: 'apply' | 'delete',
  decisionVersion: number,
  object?: KubeObject,
): SyncMessage {
  const generation = typeof object?.metadata.generation === 'number' ? object.metadata.generation : undefined;
  const carried = action === 'apply' && object ? carriable(object) : undefined;
  return {
    type: 'sync',
    ref,
    cluster,
    action,
    decisionVersion,
    ...(generation !== undefined ? { generation } : {}),
    ...(carried ? { object: carried } : {}),
    trace: message.trace,
  };
}

/** Best effort, as sync-apply's: a failed refresh is healed by the next status message or the status backstop. */
async function refreshStatus(deps: PlacementDeps, ref: ObjectRef, log: Log): Promise<void> {
  await deps.status
    ?.refresh(ref)
    .catch((err: unknown) =>
      log.warn(`Could not refresh the status of ${describeRef(ref)} after placing it`, { error: String(err) }),
    );
}

/** The clusters of `removed` that get a delete message now: not back in the decision, not a failover's deferred cleanup. */
function removedToDelete(deps: PlacementDeps, removed: string[], decision: Decision): string[] {
  const evicted = deps.evictions && removed.length ? evictedClusters(decision) : undefined;
  return removed.filter(
    (cluster) => !decision.clusters.some((c) => c.name === cluster) && !(evicted?.has(cluster) && deps.evictions),
  );
}

/**
 * What a decision records of the change it was made for: `tmc trace` derives its `received` and `placed` steps from
 * it, and ingress's dedup of watch events compares with `fingerprint` (that of `object`, the version decided on; none
 * when placement decided without it, so nothing is deduplicated against an older version's).
 */
function tracedAs(
  message: PlacementMessage,
  sent: string[],
  object: KubeObject | undefined,
): Pick<StoredDecision, 'traceId' | 'sent' | 'receivedAt' | 'receivedReason' | 'fingerprint'> {
  return {
    traceId: message.trace.traceId,
    ...(sent.length ? { sent: sent.join(', ') } : {}),
    receivedAt: message.trace.enqueuedAt,
    receivedReason: message.reason,
    fingerprint: object
      ? placementFingerprint(object, typeof object.metadata.deletionTimestamp === 'string')
      : undefined,
  };
}

/**
 * Delete messages for the clusters a decision dropped. A cluster dropped by a failover (Unhealthy past evictAfter, a
 * NoExecute taint) keeps its copy until the replacement is ready: the recovery sweep's cleanup removes it.
 */
async function removeFrom(
  deps: PlacementDeps,
  message: PlacementMessage,
  ref: ObjectRef,
  recorded: StoredDecision,
  removed: string[],
  decision: Decision,
  messages: SyncMessage[],
): Promise<void> {
  const evicted = deps.evictions && removed.length ? evictedClusters(decision) : undefined;
  for (const cluster of removed) {
    if (decision.clusters.some((c) => c.name === cluster)) continue; // back on it since: the apply above covers it
    if (evicted?.has(cluster) && deps.evictions)
      await deps.evictions.deferCleanup({ cluster, ref: recorded.ref, since: recorded.decidedAt });
    else messages.push(syncMessage(message, ref, cluster, 'delete', recorded.decisionVersion));
  }
}

/** What a placement message reads before it decides: the last decision and kcp's newest copy of the object. */
interface WorkloadRead {
  log: Log;
  kcp: KubeClient;
  previous: StoredDecision | undefined;
  /** The message's own object was current enough to decide from, so kcp was not read. */
  carried: boolean;
  object: KubeObject | undefined;
  /** The message's ref with the kind of the object read (a scale subresource's admission names the Scale kind). */
  ref: ObjectRef;
}

/** What a decision is made from besides the object and its previous decision. */
type PlacementInputs = Pick<
  DecideInput,
  'policies' | 'locations' | 'clusters' | 'namespaceLabels' | 'namespaceClusters' | 'workspaceClusters'
>;

/** What the normal path recorded: its writes so far, the decision now stored, and the sync messages to send. */
interface RecordedDecision {
  writes: number;
  current: StoredDecision | undefined;
  messages: SyncMessage[];
  /** The decision changed and no apply follows, so no sync-apply refreshes the kcp object's status: placement does. */
  statusChanged: boolean;
}

/**
 * Places one workload object: reads its newest state, then takes the delete path (gone from kcp or being deleted)
 * or the normal path (decide, record the decision with a conditional write, tell sync-apply what changed, label the
 * kcp object). Unchanged input writes nothing and sends nothing.
 */
async function reconcileWorkload(
  deps: PlacementDeps,
  message: PlacementMessage,
  receiveCount: number,
  seed?: StoredDecision['clusters'],
): Promise<ReconcileOutcome> {
  const read = await readWorkload(deps, message);
  const notStored = await awaitingStoredChange(deps, message, receiveCount, read);
  if (notStored) return notStored;
  const { object } = read;
  if (!object || object.metadata.deletionTimestamp) return reconcileWorkloadDelete(deps, message, receiveCount, read);
  return reconcileWorkloadNormal(deps, message, receiveCount, { ...read, object }, seed);
}

/** The last decision and the object: the message's own copy when it is current ({@link carriedIsCurrent}), else kcp's. */
async function readWorkload(deps: PlacementDeps, message: PlacementMessage): Promise<WorkloadRead> {
  const log = deps.log.child({
    workspace: message.ref.workspace,
    gvr: gvrKey(message.ref),
    namespace: message.ref.namespace,
    name: message.ref.name,
    traceId: message.trace.traceId,
  });
  const previous = await deps.decisions.get(message.ref);
  const kcp = await deps.kube.kcp(message.ref.workspace);
  const carried = carriedIsCurrent(message, previous);
  const object = carried ? (message.object as KubeObject) : await kcp.get(resourceName(message.ref));
  // The policy source's copy of a Namespace read here may be older than what kcp just answered (a relabel): the
  // objects placed after this one read it again instead of carrying it to here and being sent to kcp once more.
  if (!carried && isNamespaceRef(message.ref)) deps.policies.invalidate(message.ref.workspace, message.ref.name);
  const ref = object && object.kind !== message.ref.kind ? { ...message.ref, kind: object.kind } : message.ref;
  return { log, kcp, previous, carried, object, ref };
}

/** A pending outcome while the change the message reports is not in kcp yet ({@link NOT_YET_STORED_RETRIES}). */
async function awaitingStoredChange(
  deps: PlacementDeps,
  message: PlacementMessage,
  receiveCount: number,
  { object, carried, previous }: WorkloadRead,
): Promise<ReconcileOutcome | undefined> {
  if (!object) return undefined;
  const unmarked = object.metadata.deletionTimestamp ? undefined : notYetStored(message, receiveCount, 'delete');
  if (unmarked || carried) return unmarked;
  return awaitingAdmittedWrite(message, object, receiveCount, previous, await contentKeyFor(object, deps.contentKey));
}

/**
 * The delete path: the object is gone from kcp or being deleted, so it should run on no cluster. A delete message per
 * cluster lets sync-apply clean up (and release the finalizer).
 */
async function reconcileWorkloadDelete(
  deps: PlacementDeps,
  message: PlacementMessage,
  receiveCount: number,
  read: WorkloadRead,
): Promise<ReconcileOutcome> {
  const { log, object, previous, ref } = read;
  if (!object && !previous) {
    const pending = notYetStored(message, receiveCount, 'admission');
    if (!pending)
      log.debug(`Nothing to place: ${describeRef(ref)} is not in kcp and was never placed`, {
        reason: message.reason,
      });
    return pending ?? { result: 'absent', writes: 0, messages: 0 };
  }
  // Its removal was decided but the delete messages may never have gone out (the send failed or the process died
  // after the decision write): send them again rather than take "runs on no cluster" for "clean" (sync-apply's
  // delete is idempotent and releases the finalizer once every cluster is clean).
  if (
    previous?.reason === 'Deleted' &&
    object &&
    !isNamespaceRef(ref) &&
    previous.diff.removed.length > 0 &&
    object.metadata.finalizers?.includes(SYNC_FINALIZER)
  )
    return resendHeldDeletes(deps, message, read, previous);
  if (!previous || previous.clusters.length === 0) return releaseUnplaced(deps, message, receiveCount, read);
  const kept = await keepVanished(deps, message, read, previous);
  if (kept) return kept;
  return recordRemoval(deps, message, read, previous);
}

/**
 * Sends the delete messages of a recorded `Deleted` decision again: the object's delete is still held by them. Also to
 * every other cluster where sync-apply still records the object (a cluster an earlier decision evacuated, whose
 * cleanup delete was lost or dead-lettered): sync-apply releases the finalizer only once every cluster is clean, and
 * the Deleted decision's diff does not name such a cluster.
 */
async function resendHeldDeletes(
  deps: PlacementDeps,
  message: PlacementMessage,
  { log, ref }: WorkloadRead,
  previous: StoredDecision,
): Promise<ReconcileOutcome> {
  const recorded = deps.copies
    ? (await deps.copies.listForObject(ref))
        .filter((r) => r.state !== 'deleted' && !previous.diff.removed.includes(r.cluster))
        .map((r) => r.cluster)
    : [];
  const clusters = [...previous.diff.removed, ...recorded];
  const again = clusters.map((cluster) => syncMessage(message, ref, cluster, 'delete', previous.decisionVersion));
  log.info(`Removing ${describeRef(ref)} from ${clusters.join(', ')} again: its delete is still held`, {
    reason: message.reason,
  });
  await deps.syncQueue.send(again);
  return { result: 'placed', writes: 0, messages: again.length, decision: previous };
}

/**
 * Placed nowhere (no Placement selects it, no cluster fits) or no decision left (a `Deleted` one expires after 7 days,
 * and a delete held that long by a copy loses it): a copy sync-apply recorded is deleted first, and sync-apply's
 * delete releases the finalizer once every cluster is clean. With none, no sync-apply delete will come to release
 * tmc's finalizer — placement releases it, or kubectl delete would hang forever.
 */
async function releaseUnplaced(
  deps: PlacementDeps,
  message: PlacementMessage,
  receiveCount: number,
  read: WorkloadRead,
): Promise<ReconcileOutcome> {
  const { log, kcp, object, ref } = read;
  const finalizers = object?.metadata.finalizers;
  if (!object || !finalizers?.includes(SYNC_FINALIZER)) {
    log.debug(`Nothing to remove: ${describeRef(ref)} is deleted and runs on no cluster`, { reason: message.reason });
    return { result: 'absent', writes: 0, messages: 0 };
  }
  const removing =
    deps.copies && !isNamespaceRef(ref) ? await deleteRecordedCopies(deps, deps.copies, message, read) : undefined;
  if (removing) return removing;
  log.info(`Removing the sync finalizer from ${describeRef(ref)}: it runs on no cluster`);
  const released = await writeToObject(() =>
    kcp.mergePatch(resourceName(ref), {
      metadata: {
        finalizers: finalizers.filter((f) => f !== SYNC_FINALIZER),
        resourceVersion: object.metadata.resourceVersion,
      },
    }),
  );
  if (released === 'gone') return goneSinceRead(deps, message, receiveCount, read, read.previous);
  return { result: 'placed', writes: 1, messages: 0 };
}

/** A write to the object placement read; 'gone' when kcp answers 404 for it (nothing of it is left to write). */
async function writeToObject(write: () => Promise<unknown>): Promise<'written' | 'gone'> {
  try {
    await write();
    return 'written';
  } catch (err) {
    if (err instanceof NotFoundError) return 'gone';
    throw err;
  }
}

/**
 * kcp answered 404 to a write to the object placement had just read: deleted since, or an API hiccup. One 404 is not
 * evidence of a delete, so this decides exactly as for a GET's 404 (the delete path: a reported delete, or the
 * deletion gate's confirmed absence, before any copy goes; otherwise the message comes back to read again), with
 * `previous` the decision now recorded. An outcome, not an error: a thrown 404 would wait out the visibility timeout.
 */
function goneSinceRead(
  deps: PlacementDeps,
  message: PlacementMessage,
  receiveCount: number,
  read: WorkloadRead,
  previous: StoredDecision | undefined,
): Promise<ReconcileOutcome> {
  read.log.info(`${describeRef(read.ref)} is gone from kcp since it was read: deciding again without it`, {
    reason: message.reason,
  });
  return reconcileWorkloadDelete(deps, message, receiveCount, { ...read, object: undefined, previous });
}

/** Delete messages for the copies sync-apply recorded of an object no decision places; undefined when none is left. */
async function deleteRecordedCopies(
  deps: PlacementDeps,
  copies: NonNullable<PlacementDeps['copies']>,
  message: PlacementMessage,
  { log, previous, ref }: WorkloadRead,
): Promise<ReconcileOutcome | undefined> {
  const left = (await copies.listForObject(ref)).filter((r) => r.state !== 'deleted');
  if (left.length === 0) return undefined;
  const version = Math.max(previous?.decisionVersion ?? 0, ...left.map((r) => r.decisionVersion));
  const clusters = left.map((r) => r.cluster);
  log.warn(
    `Removing ${describeRef(ref)} from ${clusters.join(', ')} before its delete completes: ${previous ? 'no decision places it, but' : 'its decision is gone (expired), but'} tmc recorded copies there`,
    { reason: message.reason },
  );
  await deps.syncQueue.send(clusters.map((cluster) => syncMessage(message, ref, cluster, 'delete', version)));
  return { result: 'placed', writes: 0, messages: clusters.length, ...(previous ? { decision: previous } : {}) };
}

/**
 * Gone without a deletionTimestamp ever seen (tmc's finalizer makes kcp show one first): the signature of an API
 * outage answering 404. Removed only once the recovery sweep confirmed the absence and the guard admits it — unless
 * kcp itself reported the delete of this very object (a DELETE admission or a DELETED event): that is positive
 * evidence, as for objects kcp deletes without waiting for tmc's finalizer. The outcome that keeps the copies, or
 * undefined when they may go.
 */
async function keepVanished(
  deps: PlacementDeps,
  message: PlacementMessage,
  { log, object, ref }: WorkloadRead,
  previous: StoredDecision,
): Promise<ReconcileOutcome | undefined> {
  const reportedDeleted =
    message.reason === 'delete' &&
    (message.ref.uid === undefined || previous.uid === undefined || message.ref.uid === previous.uid);
  const vanished =
    !object && !reportedDeleted && deps.deletionGuard ? await deps.deletionGuard.admitVanished(ref) : 'allow';
  if (vanished === 'wait' && deps.deletionGuard) {
    // Counted with its burst before any copy goes: asked again once the rest of the burst has been counted too.
    log.info(
      `Keeping ${describeRef(ref)} on ${previous.clusters.map((c) => c.name).join(', ')} for ${deps.deletionGuard.removalConfirmSeconds}s: its absence is confirmed, and tmc counts how many ${ref.resource} vanish at once before deleting any`,
    );
    return {
      result: 'pending',
      writes: 0,
      messages: 0,
      delaySeconds: deps.deletionGuard.removalConfirmSeconds + 1,
      waitsFor: 'confirmation',
    };
  }
  if (vanished === 'allow') return undefined;
  log.warn(
    `Keeping ${describeRef(ref)} on ${previous.clusters.map((c) => c.name).join(', ')}: it vanished from kcp, and ${vanished === 'hold' ? `deletions of ${ref.resource} in ${ref.workspace} are held` : 'no sweep has confirmed its absence yet'}`,
  );
  // Unconfirmed, the 404 may be kcp's hiccup: the message comes back (the change it carries is not lost).
  return vanished === 'hold'
    ? { result: 'unchanged', writes: 0, messages: 0 }
    : { result: 'pending', writes: 0, messages: 0, delaySeconds: VANISHED_RECHECK_SECONDS, waitsFor: 'confirmation' };
}

/** Records the `Deleted` decision (a conditional write) and sends a delete message per cluster it ran on. */
async function recordRemoval(
  deps: PlacementDeps,
  message: PlacementMessage,
  { log, object, ref }: WorkloadRead,
  previous: StoredDecision,
): Promise<ReconcileOutcome> {
  const next: StoredDecision = {
    ...previous,
    decisionVersion: previous.decisionVersion + 1,
    clusters: [],
    scheduled: false,
    reason: 'Deleted',
    message: `${describeRef(ref)} is deleted`,
    explanation: [],
    explanationOmitted: 0,
    diff: diffDecisions(previous.clusters, []),
    decidedAt: new Date(deps.now()).toISOString(),
    ...tracedAs(message, isNamespaceRef(ref) ? [] : previous.clusters.map((c) => `delete ${c.name}`), object),
  };
  try {
    await deps.decisions.put(next);
  } catch (err) {
    if (err instanceof StaleGenerationError) {
      log.debug(`Ignoring a stale removal of ${describeRef(ref)}: a newer decision is recorded`, {
        reason: message.reason,
      });
      return { result: 'stale', writes: 0, messages: 0 };
    }
    throw err;
  }
  // A Namespace's downstream copy goes with the last object in it (lib/sync), never on its own.
  const deletes = isNamespaceRef(ref)
    ? []
    : previous.clusters.map((c) => syncMessage(message, ref, c.name, 'delete', next.decisionVersion));
  log.info(`Removing ${describeRef(ref)} from ${previous.clusters.map((c) => c.name).join(', ')}`);
  if (deletes.length) await deps.syncQueue.send(deletes);
  return { result: 'placed', writes: 1, messages: deletes.length, decision: next };
}

/**
 * The normal path: decide where the object runs; when the decision, the content or the generation changed, record it
 * and send sync messages; then follow up (namespaces, custom resources, state labels, status).
 */
async function reconcileWorkloadNormal(
  deps: PlacementDeps,
  message: PlacementMessage,
  receiveCount: number,
  read: WorkloadRead & { object: KubeObject },
  seed: StoredDecision['clusters'] | undefined,
): Promise<ReconcileOutcome> {
  const { log, object, previous, ref } = read;
  const inputs = await loadPlacementInputs(deps, message, ref, previous);
  // kcp serves no namespaced object without its Namespace: a 404 for it is a read race or an API fault, not "no labels",
  // and deciding from it would place the object nowhere (and un-place its copies). Read again shortly.
  if (ref.namespace && inputs.namespaceLabels === undefined && receiveCount <= NOT_YET_STORED_RETRIES) {
    log.warn(`Not placing ${describeRef(ref)} yet: kcp answered that its namespace ${ref.namespace} does not exist`, {
      reason: message.reason,
    });
    deps.policies.invalidate(ref.workspace, ref.namespace);
    return { result: 'pending', writes: 0, messages: 0, delaySeconds: NAMESPACE_RECHECK_SECONDS };
  }
  const { decided, gated } = await decideWorkload(deps, read, inputs, seed);
  const decision = gated.decision;
  const change = await changeSinceRecorded(deps, read, decision);

  let recorded: RecordedDecision;
  if (change.changed) {
    const stored = await recordDecision(deps, message, read, { ...change, decision, decided });
    if (stored === 'stale') return { result: 'stale', writes: 0, messages: 0 };
    recorded = stored;
  } else {
    recorded = { writes: 0, current: previous, messages: [], statusChanged: false };
    if (receiveCount > 1) recorded.messages = await resendRecorded(deps, message, read, decision);
  }

  // A Namespace is never synced on its own: its downstream namespace comes with its first object and goes with its
  // last (lib/sync), so a namespace placed where none of its objects fit leaves no empty namespace behind.
  const namespace = isNamespace(object);
  if (recorded.messages.length && !namespace) await deps.syncQueue.send(recorded.messages);
  await followDecision(deps, message, read, gated, change.diff, recorded.current);
  // A first decision sends every placed cluster its first apply, and each first apply (or its failure) refreshes the
  // object's status, which writes these labels in the same patch as the per-cluster detail: one kcp write, not two.
  const labelsFollow =
    previous === undefined &&
    !namespace &&
    decision.clusters.length > 0 &&
    recorded.messages.length >= decision.clusters.length;
  const labelled = labelsFollow ? 0 : await labelPlaced(deps, read, decision);
  // A Namespace's absence needs no confirmation (the deletion gate exempts it) and its removal un-places all it holds:
  // a 404 on its labels only skips them (its delete, or the next object's turn, comes with a read of its own).
  if (labelled === 'gone' && !namespace) return goneSinceRead(deps, message, receiveCount, read, recorded.current);
  const writes = recorded.writes + (labelled === 'gone' ? 0 : labelled);
  if (recorded.statusChanged) await refreshStatus(deps, ref, log);
  const sent = namespace ? 0 : recorded.messages.length;
  if (!writes && !sent) {
    log.debug(`Nothing to do for ${describeRef(ref)}: its decision, content and generation are unchanged`, {
      reason: message.reason,
      clusters: decision.clusters.map((c) => c.name),
      decisionReason: decision.reason,
      ...(inputs.namespaceClusters ? { namespaceClusters: inputs.namespaceClusters } : {}),
    });
  }
  return {
    result: writes || sent ? 'placed' : 'unchanged',
    writes,
    messages: sent,
    decision: recorded.current,
    object,
  };
}

/** Decides where the object runs, and passes the clusters the decision drops through the un-placement gate. */
async function decideWorkload(
  deps: PlacementDeps,
  { object, previous, ref }: WorkloadRead & { object: KubeObject },
  inputs: PlacementInputs,
  seed: StoredDecision['clusters'] | undefined,
): Promise<{ decided: Decision; gated: GatedDecision }> {
  // A namespace placed for the first time starts where its first object already runs (state from before
  // namespaces were placed), so adopting the rule moves nothing.
  const prior = previous ?? (seed?.length ? { clusters: seed } : undefined);
  const decided: Decision = keepWhenNowhereToGo(
    decide({
      ...inputs,
      object,
      previous: prior ? { clusters: prior.clusters, rebalanceToken: previous?.rebalanceToken } : undefined,
      options: { now: deps.now() },
    }),
    previous,
  );
  // A Namespace's removal deletes nothing downstream; a failover's removal is deferred to the sweep's cleanup.
  const gated = isNamespace(object)
    ? { decision: decided }
    : await holdGuardedRemovals(
        deps.removalGuard,
        ref,
        previous,
        decided,
        deps.evictions ? evictedClusters(decided) : new Set(),
      );
  return { decided, gated };
}

/** How the decision, the object's content and its generation differ from the recorded decision's. */
async function changeSinceRecorded(
  deps: PlacementDeps,
  { object, previous }: WorkloadRead & { object: KubeObject },
  decision: Decision,
): Promise<{ changed: boolean; diff: DecisionDiff; hash: string; generation: number }> {
  const hash = contentHash(object, await contentKeyFor(object, deps.contentKey));
  const generation = typeof object.metadata.generation === 'number' ? object.metadata.generation : 0;
  const diff = diffDecisions(previous?.clusters, decision.clusters);
  const contentChanged = previous !== undefined && previous.contentHash !== hash;
  const decisionChanged =
    !previous ||
    diff.added.length + diff.removed.length + diff.changed.length > 0 ||
    previous.scheduled !== decision.scheduled ||
    previous.reason !== decision.reason ||
    previous.message !== decision.message ||
    previous.rebalanceToken !== decision.rebalanceToken;
  return { changed: decisionChanged || contentChanged || generation !== previous?.generation, diff, hash, generation };
}

/** The workspace's policies and clusters, and where the object's namespace (or, cluster-scoped, its workspace) runs. */
async function loadPlacementInputs(
  deps: PlacementDeps,
  message: PlacementMessage,
  ref: ObjectRef,
  previous: StoredDecision | undefined,
): Promise<PlacementInputs> {
  const followsWorkspace = ref.namespace === undefined && !isNamespaceRef(ref);
  const [{ placements, locations }, clusters, namespacePlacement, workspaceClusters] = await Promise.all([
    deps.policies.load(ref.workspace),
    deps.inventory.list(ref.workspace),
    ref.namespace ? namespacePlacementFor(deps, message, ref.namespace, previous) : Promise.resolve(undefined),
    followsWorkspace ? workspaceWorkClusters(deps, ref.workspace) : Promise.resolve(undefined),
  ]);
  // Not read beside the namespace's placement: the labels must be those its decision saw (NamespacePlacement).
  const namespaceLabels = ref.namespace
    ? (namespacePlacement?.labels ?? (await deps.policies.namespaceLabels(ref.workspace, ref.namespace)))
    : undefined;
  return {
    policies: placements,
    locations,
    clusters,
    namespaceLabels,
    namespaceClusters: namespacePlacement?.clusters,
    workspaceClusters,
  };
}

/**
 * Records a changed decision with a conditional write ('stale' when a newer one is recorded: a later message won the
 * race), and builds the sync messages for what it adds, changes and removes. Records an event and a metric.
 */
async function recordDecision(
  deps: PlacementDeps,
  message: PlacementMessage,
  { log, object, previous, ref }: WorkloadRead & { object: KubeObject },
  change: { decision: Decision; decided: Decision; diff: DecisionDiff; hash: string; generation: number },
): Promise<RecordedDecision | 'stale'> {
  const { decision, decided, diff, hash, generation } = change;
  const namespace = isNamespace(object);
  const compact = compactExplanation(decision.explanation);
  const contentChanged = previous !== undefined && previous.contentHash !== hash;
  const applyAll = contentChanged || (previous !== undefined && generation !== previous.generation);
  const toApply = applyAll ? decision.clusters.map((c) => c.name) : [...diff.added, ...diff.changed];
  const toDelete = namespace ? [] : removedToDelete(deps, diff.removed, decision);
  const next: StoredDecision = {
    ref: { ...ref, uid: object.metadata.uid ?? ref.uid },
    decisionVersion: (previous?.decisionVersion ?? 0) + 1,
    generation,
    resourceVersion: typeof object.metadata.resourceVersion === 'string' ? object.metadata.resourceVersion : undefined,
    uid: object.metadata.uid,
    contentHash: hash,
    clusters: decision.clusters,
    scheduled: decision.scheduled,
    reason: decision.reason,
    message: decision.message,
    placement: decision.placement,
    explanation: compact.explanation,
    explanationOmitted: compact.omitted,
    weights: decision.weights,
    diff,
    rebalanceToken: decision.rebalanceToken,
    ...(decision.replicaMode ? { replicaMode: decision.replicaMode } : {}),
    decidedAt: new Date(deps.now()).toISOString(),
    ...tracedAs(message, [...toApply.map((c) => `apply ${c}`), ...toDelete.map((c) => `delete ${c}`)], object),
  };
  try {
    await deps.decisions.put(next);
  } catch (err) {
    if (err instanceof StaleGenerationError) {
      log.debug('Ignoring a stale placement message', { reason: message.reason });
      return 'stale';
    }
    throw err;
  }
  const messages = toApply.map((cluster) => syncMessage(message, ref, cluster, 'apply', next.decisionVersion, object));
  if (!namespace) await removeFrom(deps, message, ref, next, diff.removed, decision, messages);
  const event = namespace ? undefined : decisionEvent(decision, diff, evictedClusters(decided));
  if (event) await deps.events?.record({ ...ref, uid: object.metadata.uid ?? ref.uid }, event);
  if (!decision.scheduled)
    log.warn(`Cannot place ${describeRef(ref)}: ${decision.message}`, { reason: decision.reason });
  else if (diff.added.length || diff.removed.length)
    log.info(`Placing ${describeRef(ref)} on ${decision.clusters.map((c) => c.name).join(', ')}`, {
      added: diff.added,
      removed: diff.removed,
    });
  deps.metrics.increment('tmc_placement_decisions_total', {
    result: decision.scheduled ? 'scheduled' : 'unschedulable',
  });
  return { writes: 1, current: next, messages, statusChanged: toApply.length === 0 && !namespace };
}

/**
 * A retry of a message whose decision was written but whose sync messages may not have been sent: resend what the
 * recorded decision says, its removals included (sync is idempotent). A first delivery sends nothing, so a no-op
 * resync stays at zero messages; pairs whose sync never happened are the sweep's unsynced pass (lib/recovery/resync.ts).
 */
async function resendRecorded(
  deps: PlacementDeps,
  message: PlacementMessage,
  { object, previous, ref }: WorkloadRead & { object: KubeObject },
  decision: Decision,
): Promise<SyncMessage[]> {
  const decisionVersion = previous?.decisionVersion ?? 0;
  const messages = decision.clusters.map((c) => syncMessage(message, ref, c.name, 'apply', decisionVersion, object));
  if (previous && !isNamespace(object))
    await removeFrom(deps, message, ref, previous, previous.diff.removed, decision, messages);
  return messages;
}

/** What a new decision sets off beyond its sync messages: a later look at held removals, custom resources, namespaces. */
async function followDecision(
  deps: PlacementDeps,
  message: PlacementMessage,
  { object, previous, ref }: WorkloadRead & { object: KubeObject },
  gated: GatedDecision,
  diff: DecisionDiff,
  current: StoredDecision | undefined,
): Promise<void> {
  // A removal waiting to be counted with its burst (the un-placement gate): placement decides again once it may go.
  if (gated.askAgainAfterSeconds !== undefined)
    await deps.placementQueue.send([placementMessage(message, ref, 'resync')], {
      delaySeconds: gated.askAgainAfterSeconds + 1,
    });
  const moved = current !== previous && (diff.added.length > 0 || diff.removed.length > 0);
  if (isDefinitionRef(ref) && current !== previous && diff.added.length)
    await resumeCustomResources(deps, message, object, ref.workspace, diff.added);
  if (!isNamespace(object) || !moved) return;
  if (previous)
    await followNamespace(deps, message, ref.workspace, ref.name, removedToDelete(deps, diff.removed, gated.decision));
  await followWorkspaceWork(deps, message, ref.workspace, ref.name, diff);
}

/**
 * Sets the object's `state.workload.kcp.io/<key>` labels to the clusters it is placed on; the writes it made (0 or 1),
 * or 'gone' when kcp answered 404.
 */
async function labelPlaced(
  deps: PlacementDeps,
  { kcp, object, ref }: WorkloadRead & { object: KubeObject },
  decision: Decision,
): Promise<number | 'gone'> {
  const labels = stateLabelPatch(
    ref.workspace,
    object.metadata.labels,
    decision.clusters.map((c) => c.name),
  );
  if (!labels) return 0;
  if ((await writeToObject(() => kcp.mergePatch(resourceName(ref), { metadata: { labels } }))) === 'gone')
    return 'gone';
  // The cached Namespace would still show the old labels and patch them again on the next object's turn.
  if (isNamespace(object)) deps.policies.invalidate(ref.workspace, ref.name);
  return 1;
}

/**
 * Places the object's namespace (its kcp Namespace) first and returns where it runs: objects governed by the default
 * or a namespace-wide Placement go only there (kcp TMC: the namespace is scheduled, its objects follow). Each object
 * re-places its namespace, so it never follows a decision older than the inventory it sees; an unchanged namespace
 * costs one table read and no writes. Undefined when kcp has no such Namespace (nothing to follow).
 */
async function placeNamespace(
  deps: PlacementDeps,
  from: PlacementMessage,
  namespace: string,
  objectDecision: StoredDecision | undefined,
): Promise<NamespacePlacement | undefined> {
  const ref = namespaceRef(from.ref.workspace, namespace);
  // The container's copy may predate a delete and re-create of the namespace (absent, or the old one terminating):
  // an object exists in it now, so kcp is asked again before its objects are placed by a namespace that is gone.
  const known = await deps.policies.namespace(from.ref.workspace, namespace);
  const cached =
    known && !known.metadata.deletionTimestamp ? known : await freshNamespace(deps, from.ref.workspace, namespace);
  if (!cached) return undefined;
  // The cached Namespace is carried; reconcileWorkload reads kcp instead when it is older than the namespace's decision.
  const outcome = await reconcileWorkload(
    deps,
    { ...placementMessage(from, ref, 'cluster-change'), object: cached },
    1,
    objectDecision?.clusters,
  );
  if (outcome.result === 'pending') return undefined;
  if (outcome.result === 'absent') return await terminatingNamespace(deps, from.ref.workspace, namespace, cached);
  // Stale: a concurrent message placed the namespace first, maybe from a newer Namespace; follow what it recorded,
  // with the labels kcp serves now (at least as new as what that decision saw).
  const stale = outcome.result === 'stale';
  const decision = 'decision' in outcome && outcome.decision ? outcome.decision : await deps.decisions.get(ref);
  const object =
    !stale && 'object' in outcome && outcome.object
      ? outcome.object
      : await freshNamespace(deps, from.ref.workspace, namespace);
  if (!decision || !object) return undefined;
  return { clusters: decision.clusters.map((c) => c.name), labels: object.metadata.labels ?? {} };
}

/**
 * Nothing placed for a namespace kcp has (its decision is `Deleted` or it never had one): while it is being deleted
 * it runs nowhere, and so does anything still stored in it (a create admitted while the delete began), which kube's
 * namespace controller deletes next. Undefined when kcp has no such Namespace (nothing to follow).
 */
async function terminatingNamespace(
  deps: PlacementDeps,
  workspace: string,
  namespace: string,
  read: KubeObject,
): Promise<NamespacePlacement | undefined> {
  const current = read.metadata.deletionTimestamp ? read : await freshNamespace(deps, workspace, namespace);
  return current?.metadata.deletionTimestamp ? { clusters: [], labels: current.metadata.labels ?? {} } : undefined;
}

function freshNamespace(deps: PlacementDeps, workspace: string, namespace: string): Promise<KubeObject | undefined> {
  deps.policies.invalidate(workspace, namespace);
  return deps.policies.namespace(workspace, namespace);
}

/** {@link placeNamespace}, once per namespace and invocation when the deps carry `namespacePlacements`. */
function namespacePlacementFor(
  deps: PlacementDeps,
  from: PlacementMessage,
  namespace: string,
  objectDecision: StoredDecision | undefined,
): Promise<NamespacePlacement | undefined> {
  const placed = deps.namespacePlacements;
  if (!placed) return placeNamespace(deps, from, namespace, objectDecision);
  return placed.read(`${from.ref.workspace}/${namespace}`, () => placeNamespace(deps, from, namespace, objectDecision));
}

/** The namespace moved: re-place the workspace's objects in it (bounded by the fan-out limit; the resync covers more). */
async function followNamespace(
  deps: PlacementDeps,
  from: PlacementMessage,
  workspace: string,
  namespace: string,
  leaving: string[],
): Promise<void> {
  const limit = deps.fanoutLimit ?? 1000;
  const inNamespace: StoredDecision[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.decisions.listByWorkspace(workspace, { limit: 100, cursor });
    for (const d of page.decisions) if (d.ref.namespace === namespace) inNamespace.push(d);
    cursor = page.cursor;
  } while (cursor && inNamespace.length < limit);
  const moves = inNamespace.slice(0, limit);
  // Its objects leave with it: counted as one plan before any of them is asked, so the gate holds all or none.
  await countRemovalPlan(deps, removalsFollowingNamespaces(moves, new Map([[namespace, leaving]])));
  deps.log.info(`Namespace ${namespace} moved: re-placing ${moves.length} object(s) in it`, { workspace, namespace });
  if (moves.length) await deps.placementQueue.send(moves.map((d) => placementMessage(from, d.ref, 'cluster-change')));
}

/** Records a fan-out's planned removals with the un-placement gate (a hold where they cross its thresholds). */
async function countRemovalPlan(deps: PlacementDeps, plan: PlannedLeave[]): Promise<void> {
  if (!deps.removalGuard || plan.length === 0) return;
  deps.log.info(`Counting ${plan.length} removal(s) this change plans before any is made`, {
    workspace: plan[0]?.ref.workspace,
  });
  await deps.removalGuard.countPlan(plan);
}

/**
 * The clusters each of the workspace's placed namespaces would leave under the policies just loaded (the engine run
 * on the namespace as placement runs it; failovers excepted, as the gate excepts them). A namespace kcp no longer
 * has is skipped: its objects go by their deletes, not by un-placement.
 */
async function namespacesLeaving(
  deps: PlacementDeps,
  workspace: string,
  decisions: readonly StoredDecision[],
  world: Pick<Parameters<typeof decide>[0], 'policies' | 'locations' | 'clusters'>,
): Promise<Map<string, string[]>> {
  const left = new Map<string, string[]>();
  for (const d of decisions) {
    if (!isNamespaceRef(d.ref) || d.clusters.length === 0) continue;
    const object = await deps.policies.namespace(workspace, d.ref.name);
    if (!object || object.metadata.deletionTimestamp) continue;
    const decided = keepWhenNowhereToGo(
      decide({
        object,
        ...world,
        previous: { clusters: d.clusters, rebalanceToken: d.rebalanceToken },
        options: { now: deps.now() },
      }),
      d,
    );
    const leaving = removedToDelete(
      deps,
      d.clusters.map((c) => c.name),
      decided,
    );
    if (leaving.length) left.set(d.ref.name, leaving);
  }
  return left;
}

/**
 * Where the workspace's work runs: the union of the clusters its kcp Namespaces are placed on, `except` one namespace.
 * One kcp list and one batch read of the namespaces' decisions. A decision the store could not answer throws (the
 * message is retried): a partial union would remove cluster-scoped objects from clusters that still need them.
 */
async function workspaceWorkClusters(deps: PlacementDeps, workspace: string, except?: string): Promise<string[]> {
  const kcp = await deps.kube.kcp(workspace);
  const namespaces = await kcp.list({ group: '', version: 'v1', resource: 'namespaces' });
  const refs = namespaces
    .map((ns) => ns.metadata.name ?? '')
    .filter((name) => name !== '' && name !== except)
    .map((name) => namespaceRef(workspace, name));
  const decisions = refs.length ? await deps.decisions.getMany(refs) : new Map<string, StoredDecision | undefined>();
  const union = new Set<string>();
  for (const r of refs) {
    const key = objectKey(r);
    if (!decisions.has(key))
      throw new InternalError(`The decision of namespace ${r.name} could not be read`, { object: describeRef(r) });
    for (const c of decisions.get(key)?.clusters ?? []) union.add(c.name);
  }
  return [...union].sort();
}

/**
 * A namespace's clusters changed: when that adds a cluster to, or takes one from, the clusters running the
 * workspace's work, re-place the workspace's cluster-scoped objects, which follow that set (bounded by the fan-out
 * limit; the recovery sweep's unplaced pass covers a cluster-scoped object decided in between).
 */
async function followWorkspaceWork(
  deps: PlacementDeps,
  from: PlacementMessage,
  workspace: string,
  namespace: string,
  diff: { added: string[]; removed: string[] },
): Promise<void> {
  const others = new Set(await workspaceWorkClusters(deps, workspace, namespace));
  const joined = diff.added.filter((c) => !others.has(c));
  const left = diff.removed.filter((c) => !others.has(c));
  if (joined.length === 0 && left.length === 0) return;
  const limit = deps.fanoutLimit ?? 1000;
  const moves: PlacementMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.decisions.listByWorkspace(workspace, { limit: 100, cursor });
    for (const d of page.decisions)
      if (d.ref.namespace === undefined && !isNamespaceRef(d.ref) && isWorkloadRef(d.ref))
        moves.push(placementMessage(from, d.ref, 'cluster-change'));
    cursor = page.cursor;
  } while (cursor && moves.length < limit);
  deps.log.info(
    `The workspace's work now runs on a different set of clusters: re-placing ${moves.length} cluster-scoped object(s)`,
    { workspace, namespace, joined, left },
  );
  if (moves.length) await deps.placementQueue.send(moves.slice(0, limit));
}

function placementMessage(
  from: PlacementMessage,
  ref: ObjectRef,
  reason: PlacementMessage['reason'],
): PlacementMessage {
  return { type: 'placement', ref, reason, trace: from.trace };
}

/** A SyncTarget changed: refresh its mirror; when scheduling facts changed, re-place what it runs and what waits. */
async function reconcileSyncTarget(
  deps: PlacementDeps,
  message: PlacementMessage,
  receiveCount: number,
): Promise<ReconcileOutcome> {
  const { ref } = message;
  const limit = deps.fanoutLimit ?? 1000;
  const kcp = await deps.kube.kcp(ref.workspace);
  const raw = await kcp.get(resourceName(ref));
  const unwritten =
    message.reason === 'delete'
      ? raw && !raw.metadata.deletionTimestamp
        ? notYetStored(message, receiveCount, 'delete')
        : undefined
      : awaitingAdmittedWrite(message, raw, receiveCount);
  if (unwritten) return unwritten;
  const stored = await deps.inventory.getMirror(ref.workspace, ref.name);
  const onCluster = async (): Promise<PlacementMessage[]> =>
    (await deps.inventory.objectsOn(ref.name, limit)).map((r) => placementMessage(message, r, 'cluster-change'));
  if (!raw || raw.metadata.deletionTimestamp) {
    if (!stored)
      return (
        (!raw && notYetStored(message, receiveCount, 'admission')) || {
          result: 'cluster-removed',
          writes: 0,
          messages: 0,
        }
      );
    await deps.inventory.deleteMirror(ref.workspace, ref.name);
    deps.kube.forget(ref.workspace, ref.name);
    const moves = await onCluster();
    deps.log.info(`Draining SyncTarget ${ref.name}: re-placing ${moves.length} object(s)`, {
      workspace: ref.workspace,
      cluster: ref.name,
    });
    if (moves.length) await deps.placementQueue.send(moves);
    return { result: 'cluster-removed', writes: 1, messages: moves.length };
  }
  const parsed = SyncTargetSchema.safeParse(raw);
  if (!parsed.success) {
    deps.log.warn('Ignoring an invalid SyncTarget', {
      workspace: ref.workspace,
      cluster: ref.name,
      issues: parsed.error.issues.map((i) => i.path.join('.')),
    });
    return { result: 'cluster-updated', writes: 0, messages: 0 };
  }
  const mirror = mirrorOf(ref.workspace, parsed.data, new Date(deps.now()));
  if (stored && stored.hash === mirror.hash) {
    deps.log.debug(`Nothing to do for SyncTarget ${ref.name}: its scheduling facts are unchanged`, {
      workspace: ref.workspace,
      cluster: ref.name,
      reason: message.reason,
    });
    return { result: 'cluster-updated', writes: 0, messages: 0 };
  }
  await deps.inventory.putMirror(mirror);
  // Placed work re-evaluates (a new NoExecute taint or a label change may evict it); waiting work may fit now.
  const moves = stored ? await onCluster() : [];
  let cursor: string | undefined;
  do {
    const page = await deps.decisions.listByWorkspace(ref.workspace, { unscheduledOnly: true, limit: 100, cursor });
    for (const d of page.decisions) moves.push(placementMessage(message, d.ref, 'cluster-change'));
    cursor = page.cursor;
  } while (cursor && moves.length < limit);
  if (moves.length) await deps.placementQueue.send(moves.slice(0, limit));
  return { result: 'cluster-updated', writes: 1, messages: Math.min(limit, moves.length) };
}

/** A Placement or Location changed: fresh policies, Placement status, and a bounded re-placement of the workspace. */
async function reconcilePolicy(
  deps: PlacementDeps,
  message: PlacementMessage,
  receiveCount: number,
): Promise<ReconcileOutcome> {
  const { ref } = message;
  const limit = deps.fanoutLimit ?? 1000;
  const kcp = await deps.kube.kcp(ref.workspace);
  if (message.reason === 'admission') {
    const unwritten = awaitingAdmittedWrite(message, await kcp.get(resourceName(ref)), receiveCount);
    if (unwritten) return unwritten;
  } else if (message.reason === 'delete') {
    const current = await kcp.get(resourceName(ref));
    const unmarked =
      current && !current.metadata.deletionTimestamp ? notYetStored(message, receiveCount, 'delete') : undefined;
    if (unmarked) return unmarked;
  }
  deps.policies.invalidate(ref.workspace);
  const [{ placements, locations }, clusters] = await Promise.all([
    deps.policies.load(ref.workspace),
    deps.inventory.list(ref.workspace),
  ]);
  let writes = 0;
  for (const placement of placements) {
    const patch = placementStatusPatch(placement, locations, clusters, deps.now());
    if (!patch) continue;
    await kcp.patchStatus(
      { group: SCHEDULING_GROUP, version: 'v1alpha1', resource: PLACEMENT_RESOURCE, name: placement.metadata.name },
      patch,
    );
    writes++;
  }
  const affected: StoredDecision[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.decisions.listByWorkspace(ref.workspace, { limit: 100, cursor });
    for (const d of page.decisions) if (d.clusters.length || d.scheduled === false) affected.push(d);
    cursor = page.cursor;
  } while (cursor && affected.length < limit);
  if (affected.length >= limit)
    deps.log.warn('Placement change touches more objects than one fan-out; the resync sweep places the rest', {
      workspace: ref.workspace,
      limit,
    });
  const moves = affected.slice(0, limit);
  // The whole plan is counted before any object is asked (a deleted Placement un-places everything at once): the
  // gate then holds all of a scope's removals or none, however slowly the messages are worked off.
  if (deps.removalGuard) {
    const left = await namespacesLeaving(deps, ref.workspace, moves, { policies: placements, locations, clusters });
    await countRemovalPlan(deps, removalsFollowingNamespaces(moves, left));
  }
  if (moves.length)
    await deps.placementQueue.send(moves.map((d) => placementMessage(message, d.ref, 'placement-change')));
  return { result: 'policy-updated', writes, messages: moves.length };
}

/**
 * The placement function's use case for one message. Stale and duplicate messages end as `stale`/`unchanged`
 * (success, nothing written); an unsatisfiable Placement is a recorded decision, not an error.
 */
export async function reconcilePlacement(
  deps: PlacementDeps,
  message: PlacementMessage,
  receiveCount = 1,
): Promise<ReconcileOutcome> {
  let outcome = await reconcileOnce(deps, message, receiveCount);
  // The admitted write usually lands within milliseconds of the webhook's answer, and SQS can hide a message for
  // whole seconds only: on the first delivery re-read a few times first, so a create is not a second late. A
  // pending outcome wrote nothing, so running again is safe.
  if (receiveCount === 1) {
    for (const waitMs of deps.rereadDelaysMs ?? QUICK_REREAD_DELAYS_MS) {
      if (outcome.result !== 'pending' || outcome.waitsFor === 'confirmation') break;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      outcome = await reconcileOnce(deps, message, receiveCount);
    }
  }
  return outcome;
}

/** In-process re-reads of a change kcp has not stored yet, before the message is deferred by SQS (about 0.3 s). */
export const QUICK_REREAD_DELAYS_MS: readonly number[] = [20, 60, 200];

function reconcileOnce(
  deps: PlacementDeps,
  message: PlacementMessage,
  receiveCount: number,
): Promise<ReconcileOutcome> {
  if (isSyncTarget(message.ref)) return reconcileSyncTarget(deps, message, receiveCount);
  if (isPolicy(message.ref)) return reconcilePolicy(deps, message, receiveCount);
  return reconcileWorkload(deps, message, receiveCount);
}
