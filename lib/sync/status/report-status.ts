import { systemClock, type Clock } from '../../ports/clock';
import {
  clusterStatusAnnotation,
  CLUSTER_STATUS_ANNOTATION_PREFIX,
  CONDITIONS_ANNOTATION,
  stateLabelPatch,
} from '../../api/labels';
import { objectKey, type ObjectRef } from '../../api/object-ref';
import { ConflictError, NotFoundError } from '../../errors/tmc-error';
import type { KubeConnector } from '../../ports/kube-client';
import { snapshotFromStores, type ObjectSnapshotReader } from '../../ports/object-snapshot';
import type { StatusStore } from '../../ports/status-store';
import type { SyncStateStore } from '../../ports/sync-state-store';
import { canonicalJson } from '../../kube/canonical-json';
import { aggregateStatus, statusHoldsConditions } from './aggregate';
import { awaitedReports } from './awaited-reports';
import { clusterDetail, sameDetail, syncedCondition } from './cluster-detail';
import { copyPresent, placedCondition } from './placed-condition';
import type { StatusCondition } from './types';

interface StatusReporterOptions {
  kube: KubeConnector;
  now?: Clock;
  /** Jitter of the backoff between conflict retries (tests pin it). */
  random?: () => number;
}

/**
 * What a refresh reads of DynamoDB: an {@link ObjectSnapshotReader} (DynamoObjectSnapshotReader: one request), or the
 * two stores, whose own reads make three requests a refresh.
 */
export type StatusReporterDeps = StatusReporterOptions &
  ({ snapshot: ObjectSnapshotReader } | { syncState: SyncStateStore; statusStore: StatusStore });

export interface StatusReport {
  /** What was written to kcp: nothing, the metadata (annotations, state labels), the status subresource, or both. */
  annotations: boolean;
  status: boolean;
  /**
   * Set when kcp was behind but nothing was written because these clusters' reports are on their way
   * ({@link CoalescingStatusReporter.refreshUnlessAwaited}); the caller must see that the object is refreshed again.
   */
  awaiting?: string[];
}

/** Brings the kcp object's status and per-cluster annotations up to date from DynamoDB; used by status-up and sync-apply. */
export interface StatusReporter {
  refresh(ref: ObjectRef): Promise<StatusReport>;
}

/** A reporter that can also hold a write back while other clusters' reports are on their way. */
export interface CoalescingStatusReporter extends StatusReporter {
  /**
   * {@link StatusReporter.refresh}, except that when kcp is behind and another placed cluster's report is on its way
   * (awaited-reports.ts) it writes nothing and answers `awaiting`: the write after the last report then carries every
   * cluster's, one write instead of one per report. Never strands a status: the caller schedules a plain refresh.
   */
  refreshUnlessAwaited(ref: ObjectRef): Promise<StatusReport>;
}

function withoutTransitionTime(conditions: unknown): unknown {
  return Array.isArray(conditions)
    ? conditions.map((c) => (typeof c === 'object' && c !== null ? { ...c, lastTransitionTime: undefined } : c))
    : conditions;
}

/** Keeps a condition's lastTransitionTime while its status does not change, as Kubernetes controllers do. */
function carryTransitionTimes(next: StatusCondition[], current: unknown, now: string): StatusCondition[] {
  const previous = Array.isArray(current) ? (current as StatusCondition[]) : [];
  return next.map((c) => {
    const before = previous.find((p) => p?.type === c.type);
    return {
      ...c,
      lastTransitionTime:
        before && before.status === c.status && before.lastTransitionTime
          ? before.lastTransitionTime
          : (c.lastTransitionTime ?? now),
    };
  });
}

/**
 * The conditions annotation's new value, or undefined when the one on the object says the same (compared without
 * lastTransitionTime, which is carried over while a condition's status holds).
 */
function conditionsAnnotationValue(
  annotations: Record<string, string>,
  conditions: StatusCondition[],
  now: string,
): string | undefined {
  const raw = annotations[CONDITIONS_ANNOTATION];
  let current: unknown;
  try {
    current = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    current = undefined; // not tmc's JSON (a person edited it): written anew
  }
  const next = carryTransitionTimes(conditions, current, now);
  if (raw !== undefined && canonicalJson(withoutTransitionTime(current)) === canonicalJson(withoutTransitionTime(next)))
    return undefined;
  return JSON.stringify(next);
}

function syncedSummary(clusters: string[], conditions: Map<string, StatusCondition>): StatusCondition {
  const failing = clusters.filter((c) => conditions.get(c)?.status !== 'True');
  if (clusters.length > 0 && failing.length === 0)
    return { type: 'Synced', status: 'True', reason: 'Applied', message: `Applied to all ${clusters.length} clusters` };
  const detail = failing.map((c) => `${c}: ${conditions.get(c)?.reason ?? 'Pending'}`).join('; ');
  return {
    type: 'Synced',
    status: 'False',
    reason: failing.some((c) => conditions.get(c)?.status === 'False') ? 'SyncFailed' : 'Pending',
    message:
      clusters.length === 0
        ? 'Not placed on any cluster'
        : `Applied to ${clusters.length - failing.length} of ${clusters.length} clusters; ${detail}`,
  };
}

/**
 * Status tells the truth: the placed clusters come from the decision, and a placed cluster without status counts as
 * not ready. Writes go to metadata.annotations (merge patch, only the changed keys) and to the status subresource
 * (merge patch, only when a field changed) and never to spec, so they cannot trigger a spec sync: the transform
 * strips the per-cluster annotations and the hash does not move.
 */
/**
 * Attempts of one refresh when kcp's object changed under it, and the backoff step between them. client-go's
 * DefaultRetry has 5 steps of 10 ms; a refresh here takes a kcp read, a table read and a webhook round trip, so
 * several refreshers of one object overlap for longer and need more room.
 */
const MAX_CONFLICT_ATTEMPTS = 10;
const CONFLICT_BACKOFF_MS = 100;

export function makeStatusReporter(deps: StatusReporterDeps): CoalescingStatusReporter {
  const snapshot = 'snapshot' in deps ? deps.snapshot : snapshotFromStores(deps.syncState, deps.statusStore);
  const now = deps.now ?? systemClock;
  const random = deps.random ?? Math.random;
  /**
   * Per object: the chain of refreshes in this container and the one queued behind it, if any. A batch brings an
   * object's messages for every cluster together; refreshing each at once read the same kcp snapshot and patched the
   * same annotations and aggregate over each other (and into 409s). One runs at a time per object; callers arriving
   * while one runs share the single queued refresh, which starts after their state was stored and so reads it. The
   * shared refresh may hold its write back only if every caller sharing it allows that.
   */
  interface Queued {
    run: Promise<StatusReport>;
    mayDefer: boolean;
  }
  const slots = new Map<string, { tail: Promise<unknown>; queued?: Queued }>();
  const refreshWith = (ref: ObjectRef, mayDefer: boolean): Promise<StatusReport> => {
    const key = objectKey(ref);
    const slot = slots.get(key);
    if (slot?.queued) {
      slot.queued.mayDefer &&= mayDefer;
      return slot.queued.run;
    }
    const queued: Queued = {
      mayDefer,
      run: (slot?.tail ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => {
          const current = slots.get(key);
          if (current?.queued === queued) current.queued = undefined; // started: a later caller needs a later run
          return refreshOnce(ref, queued.mayDefer);
        }),
    };
    const tail: Promise<unknown> = queued.run
      .catch(() => undefined)
      .finally(() => {
        if (slots.get(key)?.tail === tail) slots.delete(key);
      });
    slots.set(key, { tail, queued });
    return queued.run;
  };
  return {
    refresh: (ref) => refreshWith(ref, false),
    refreshUnlessAwaited: (ref) => refreshWith(ref, true),
  };

  /**
   * Optimistic concurrency, as client-go's RetryOnConflict: every write is conditional on the resourceVersion that was
   * read before DynamoDB was, so a write computed from older DynamoDB state than kcp already shows is refused (409)
   * instead of overwriting it. Refreshes of one object run in other containers too (sync-apply's after an apply,
   * status-up's in each of its containers); with unconditional merge patches the one that read DynamoDB first could
   * write last, and its older aggregate stayed in kcp until the next status change — a Deployment stuck at 2 of 3
   * ready with nothing left to refresh it. A conflict re-reads kcp and DynamoDB and tries again.
   */
  async function refreshOnce(ref: ObjectRef, mayDefer: boolean): Promise<StatusReport> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await reconcile(ref, mayDefer);
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= MAX_CONFLICT_ATTEMPTS) throw err;
        // Full jitter: the refreshers that just collided (up to one per cluster and container) spread out instead of
        // reading and colliding again in step. A lost sync-apply refresh is only logged, so giving up early loses it.
        await new Promise((resolve) => setTimeout(resolve, random() * CONFLICT_BACKOFF_MS * attempt));
      }
    }
  }

  async function reconcile(ref: ObjectRef, mayDefer: boolean): Promise<StatusReport> {
    const kcp = await deps.kube.kcp(ref.workspace);
    // Read kcp before DynamoDB: the writes below carry this resourceVersion, so they land only if kcp still shows what
    // was read here, and so shows nothing newer than the DynamoDB state read after it.
    const object = await kcp.get(ref);
    if (!object) return { annotations: false, status: false };
    let resourceVersion = object.metadata.resourceVersion;
    const { decision, syncRecords, statuses: observed } = await snapshot.read(ref);
    const placed = decision
      ? decision.clusters.map((c) => c.name)
      : syncRecords
          .filter((r) => r.state !== 'deleted')
          .map((r) => r.cluster)
          .sort();
    const at = new Date(now());
    const syncOf = new Map(syncRecords.map((r) => [r.cluster, r]));
    // Secrets have no status, and their (would-be) status must never be copied anywhere: only sync conditions.
    const observedOf = new Map(ref.kind === 'Secret' ? [] : observed.map((o) => [o.cluster, o]));

    const annotations = object.metadata.annotations ?? {};
    const patchAnnotations: Record<string, string | null> = {};
    const syncedByCluster = new Map<string, StatusCondition>();
    for (const cluster of placed) {
      const detail = clusterDetail(cluster, syncOf.get(cluster), observedOf.get(cluster), at);
      syncedByCluster.set(cluster, syncedCondition(syncOf.get(cluster)));
      const key = clusterStatusAnnotation(ref.workspace, cluster);
      if (!sameDetail(annotations[key], detail)) patchAnnotations[key] = JSON.stringify(detail);
    }
    const placedKeys = new Set(placed.map((c) => clusterStatusAnnotation(ref.workspace, c)));
    for (const key of Object.keys(annotations)) {
      if (key.startsWith(CLUSTER_STATUS_ANNOTATION_PREFIX) && !placedKeys.has(key)) patchAnnotations[key] = null; // no longer placed there
    }
    const placedNames = new Set(placed);
    const leftovers = syncRecords.filter((r) => r.state !== 'deleted' && !placedNames.has(r.cluster));
    const placement = placedCondition(decision, leftovers);
    // tmc's own conditions, whatever the kind: in status.conditions where the kind's status holds them, else in an
    // annotation (a ConfigMap placed nowhere still says why).
    const tmcConditions = [syncedSummary(placed, syncedByCluster), ...(placement ? [placement] : [])];
    const conditionsAnnotation = conditionsAnnotationValue(annotations, tmcConditions, at.toISOString());
    if (!statusHoldsConditions(ref.kind) && conditionsAnnotation !== undefined)
      patchAnnotations[CONDITIONS_ANNOTATION] = conditionsAnnotation;

    // Placement leaves an object's first state labels to its first refresh (lib/placement/reconcile.ts): they go in
    // the same metadata patch as the per-cluster detail. A deleted object's labels are left as they are.
    const patchLabels =
      decision && decision.reason !== 'Deleted' && !object.metadata.deletionTimestamp
        ? stateLabelPatch(ref.workspace, object.metadata.labels, placed)
        : undefined;
    const metadataChanged = patchLabels !== undefined || Object.keys(patchAnnotations).length > 0;

    // Only what clusters of the decision report about a copy they hold counts: a removed copy's last status, or a
    // cluster the object moved away from, would show replicas that no longer run.
    const shares = new Map(decision?.clusters.map((c) => [c.name, c.replicas]));
    const specReplicas = (object.spec as { replicas?: unknown } | undefined)?.replicas;
    const aggregate = aggregateStatus({
      kind: ref.kind,
      generation: object.metadata.generation,
      clusters: placed.map((cluster) => ({
        cluster,
        status: copyPresent(syncOf.get(cluster)) ? observedOf.get(cluster)?.status : undefined,
        appliedGeneration: syncOf.get(cluster)?.appliedGeneration,
        downstreamGeneration: syncOf.get(cluster)?.downstreamGeneration,
        desiredReplicas: shares.get(cluster),
      })),
      ...(typeof specReplicas === 'number' ? { specReplicas } : {}),
      ...(decision?.replicaMode ? { replicaMode: decision.replicaMode } : {}),
    });
    const current = (object.status ?? {}) as Record<string, unknown>;
    let next: Record<string, unknown> | undefined;
    if (aggregate) {
      const conditions = [...((aggregate.conditions as StatusCondition[] | undefined) ?? []), ...tmcConditions];
      const candidate: Record<string, unknown> = {
        ...aggregate,
        conditions: carryTransitionTimes(conditions, current.conditions, at.toISOString()),
      };
      const changed = Object.keys(candidate).some((k) =>
        k === 'conditions'
          ? canonicalJson(withoutTransitionTime(current[k])) !== canonicalJson(withoutTransitionTime(candidate[k]))
          : canonicalJson(current[k]) !== canonicalJson(candidate[k]),
      );
      if (changed) next = candidate;
    }
    if (!metadataChanged && next === undefined) return { annotations: false, status: false };
    if (mayDefer) {
      const awaiting = awaitedReports({
        kind: ref.kind,
        generation: object.metadata.generation,
        placed: decision ? placed : [],
        syncOf,
        observedOf,
        desiredReplicas: (cluster) =>
          shares.get(cluster) ?? (typeof specReplicas === 'number' ? specReplicas : undefined),
        now: at.getTime(),
      });
      if (awaiting.length) return { annotations: false, status: false, awaiting };
    }

    let wroteAnnotations = false;
    if (metadataChanged) {
      const patched = await kcp.mergePatch(ref, {
        metadata: {
          ...(resourceVersion ? { resourceVersion } : {}),
          ...(patchLabels ? { labels: patchLabels } : {}),
          ...(Object.keys(patchAnnotations).length ? { annotations: patchAnnotations } : {}),
        },
      });
      resourceVersion = patched.metadata.resourceVersion;
      wroteAnnotations = true;
    }
    if (next === undefined) return { annotations: wroteAnnotations, status: false };
    try {
      await kcp.patchStatus(ref, next, { resourceVersion });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      // A kind without a status subresource (some CRDs): the annotations carry everything, tmc's conditions included.
      if (conditionsAnnotation === undefined) return { annotations: wroteAnnotations, status: false };
      await kcp.mergePatch(ref, {
        metadata: {
          ...(resourceVersion ? { resourceVersion } : {}),
          annotations: { [CONDITIONS_ANNOTATION]: conditionsAnnotation },
        },
      });
      return { annotations: true, status: false };
    }
    return { annotations: wroteAnnotations, status: true };
  }
}
