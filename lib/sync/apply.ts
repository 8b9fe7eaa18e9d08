import { systemClock } from '../ports/clock';
import type { SyncMessage } from '../api/messages';
import { describeRef, gvrKey, type ObjectRef } from '../api/object-ref';
import {
  ClusterConfigurationError,
  NotFoundError,
  TmcError,
  asTmcError,
  type ErrorCategory,
} from '../errors/tmc-error';
import type { KubeClient, KubeObject } from '../ports/kube-client';
import type { SyncRecord } from '../ports/sync-state-store';
import { reasonOf } from './status/cluster-detail';
import { failureOutcome } from './failure-outcome';
import { closeNamespace, deleteFromCluster } from './delete';
import {
  awaitBoundRole,
  awaitDefinition,
  DEFINITION_WAIT_SECONDS,
  syncDependencies,
  ensureNamespace,
} from './ensure-dependencies';
import { pairKey, placementFor, syncObjectToCluster, type SyncContext } from './sync-object';
import type { Log } from '../observability/log';
import { forwardToSyncer } from './forward-to-syncer';
import type { SyncApplyDeps } from './deps';

export type { SyncApplyDeps };

export type SyncResult =
  | { result: 'applied' | 'unchanged' | 'deleted' | 'stale' | 'recorded' | 'forwarded' }
  | { result: 'deferred'; delaySeconds: number; category: ErrorCategory };

/** Refetch-and-retry rounds for 409s and a namespace deleted under us, within one invocation. */
const MAX_ATTEMPTS = 3;

/**
 * A source kcp answered 404 for while its decision still wants this cluster is read again this much later: by then
 * either kcp answers again, or the recovery sweep confirmed the absence and placement dropped the cluster.
 */
export const SOURCE_MISSING_RECHECK_SECONDS = 30;

async function readSource(
  deps: SyncApplyDeps,
  message: SyncMessage,
  existing: SyncRecord | undefined,
  fresh: boolean,
): Promise<KubeObject | undefined> {
  const carried = message.object as KubeObject | undefined;
  // Secret data never travels in messages; a carried Secret (a producer bug) is ignored and re-read instead.
  const usable =
    !fresh &&
    carried !== undefined &&
    carried.kind !== 'Secret' &&
    (existing === undefined || (carried.metadata.generation ?? 0) >= existing.appliedGeneration);
  if (usable) return carried;
  const kcp = await deps.kube.kcp(message.ref.workspace);
  return kcp.get(message.ref);
}

/**
 * Whether the cluster serves `ref`'s resource; when not, a custom resource whose CRD the workspace places here gets
 * the CRD first and waits for it ({@link awaitDefinition}): the seconds to wait. Throws when nothing will serve it.
 */
async function verifyServed(
  ctx: SyncContext,
  cluster: KubeClient,
  ref: ObjectRef,
  clusterName: string,
  receiveCount: number,
): Promise<number | undefined> {
  const serves = (types: Awaited<ReturnType<KubeClient['resources']>>): boolean =>
    types.some((t) => t.group === ref.group && t.version === ref.version && t.resource === ref.resource);
  if (serves(await cluster.resources())) return undefined;
  const definition = await awaitDefinition(ctx, cluster, ref, receiveCount);
  if (definition.state === 'wait') return definition.seconds;
  // A miss may be a CRD installed since the cached discovery: ask the cluster again before reporting it missing.
  const served = await cluster.resources({ refresh: true });
  if (serves(served)) return undefined;
  // Established, but discovery is refreshed at most every few seconds: look again shortly.
  if (definition.state === 'established') return DEFINITION_WAIT_SECONDS;
  const crd = ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
  const servedOther = served.find((t) => t.group === ref.group && t.resource === ref.resource);
  const detail = servedOther
    ? ` (it serves version ${servedOther.version}, not ${ref.version})`
    : ref.group
      ? `: install the CustomResourceDefinition ${crd} there`
      : '';
  throw new ClusterConfigurationError(`Cluster ${clusterName} does not serve ${gvrKey(ref)} (${ref.kind})${detail}`, {
    cluster: clusterName,
    object: describeRef(ref),
  });
}

function isNamespace(ref: ObjectRef): boolean {
  return ref.group === '' && ref.resource === 'namespaces';
}

/**
 * A kcp Namespace placed on a cluster becomes its mapped downstream namespace (never the kcp name: two workspaces
 * would collide). Its removal is left to the objects inside it: the downstream namespace goes with the last of them,
 * and deleting it first would delete objects whose sync items still say applied; one its decision moved away from
 * that holds nothing of tmc's goes at once.
 */
async function syncNamespace(ctx: SyncContext, ref: ObjectRef, gone: boolean, moved: boolean): Promise<SyncResult> {
  // Only a decision that moved the namespace away (computed from complete reads) closes an empty one; kcp's delete of
  // a namespace reaches the cluster through its objects' deletes.
  if (moved) await closeNamespace(ctx);
  if (gone || moved) return { result: 'deleted' };
  const client = await ctx.deps.kube.cluster(ref.workspace, ctx.message.cluster);
  return { result: (await ensureNamespace(ctx, client, ref.workspace, ref.name)) ? 'applied' : 'unchanged' };
}

/**
 * Reconciles one (object, cluster) pair toward the newest state kcp has. Safe to run twice: an unchanged desired
 * object is a no-op (zero cluster writes, zero table writes), and every record is a conditional write.
 */
export async function syncOne(deps: SyncApplyDeps, message: SyncMessage, receiveCount: number): Promise<SyncResult> {
  return deps.locks.run(pairKey(message.ref, message.cluster), async () => {
    const { cluster } = message;
    // A pull-mode cluster is never called: its syncer gets the work (a failed mode read throws and SQS retries).
    if ((await deps.kube.syncMode?.(message.ref.workspace, cluster)) === 'Pull') {
      await forwardToSyncer(deps, message);
      deps.metrics.increment('tmc_sync_operations_total', {
        result: 'forwarded',
        cluster,
        resource: gvrKey(message.ref),
      });
      return { result: 'forwarded' };
    }
    const gate = await deps.breaker?.allow(cluster);
    if (gate && !gate.allowed) {
      // Deferred, not lost: the message comes back when the circuit may let a probe through.
      deps.metrics.increment('tmc_sync_operations_total', {
        result: 'deferred',
        cluster,
        resource: gvrKey(message.ref),
      });
      deps.log.info(`Deferring ${describeRef(message.ref)} for ${cluster}: ${gate.reason}`, {
        cluster,
        delaySeconds: gate.retryAfterSeconds,
      });
      return { result: 'deferred', delaySeconds: gate.retryAfterSeconds, category: 'cluster-unavailable' };
    }
    const result = await syncPair(deps, message, receiveCount);
    // Only outcomes that the cluster answered prove it reachable (a stale or unchanged one may not have asked it).
    if (deps.breaker && (result.result === 'applied' || result.result === 'deleted' || result.result === 'recorded')) {
      await deps.breaker
        .recordSuccess(cluster)
        .catch((err: unknown) =>
          deps.log.warn('Could not record a success on the circuit', { cluster, error: asTmcError(err).toJSON() }),
        );
    }
    return result;
  });
}

async function syncPair(deps: SyncApplyDeps, message: SyncMessage, receiveCount: number): Promise<SyncResult> {
  const { ref, cluster } = message;
  const log = deps.log.child({
    workspace: ref.workspace,
    cluster,
    gvr: gvrKey(ref),
    namespace: ref.namespace,
    name: ref.name,
    traceId: message.trace.traceId,
  });
  const resource = gvrKey(ref);
  let fresh = false;
  for (let attempt = 1; ; attempt++) {
    try {
      const [decision, existing] = await Promise.all([deps.syncState.decision(ref), deps.syncState.get(ref, cluster)]);
      // This pair was already reconciled against a newer decision, which read newer state than this message saw.
      if (existing && message.decisionVersion < existing.decisionVersion) {
        log.debug('Ignoring a message older than the recorded sync state', {
          messageVersion: message.decisionVersion,
          recorded: existing.decisionVersion,
        });
        deps.metrics.increment('tmc_sync_operations_total', { result: 'stale', cluster, resource });
        return { result: 'stale' };
      }
      // Older than the decision but this pair has not caught up: placement sends messages only to clusters whose
      // part changed, so dropping this one could lose an update. Reconcile toward the newest decision instead,
      // reading the object from kcp (the carried copy and the message's action are as old as the message).
      const behind = decision !== undefined && message.decisionVersion < decision.decisionVersion;
      const recorded = Math.max(decision?.decisionVersion ?? 0, existing?.decisionVersion ?? 0);
      const ctx = { deps, message, existing, log, decisionVersion: Math.max(message.decisionVersion, recorded) };
      const dropped = decision !== undefined && !decision.clusters.some((c) => c.name === cluster);
      const wantDelete = dropped || (!behind && message.action === 'delete');
      const source = wantDelete ? undefined : await readSource(deps, message, existing, fresh || behind);
      if (isNamespace(ref))
        return await syncNamespace(
          ctx,
          ref,
          !source || source.metadata.deletionTimestamp !== undefined || wantDelete,
          dropped && decision.reason !== 'Deleted',
        );
      // A 404 on an object its decision still places here is not evidence that it was deleted (an API outage answers
      // the same): only placement removes the cluster from the decision, once kcp reported the delete (admission,
      // deletionTimestamp) or the sweep confirmed the absence. Until then the copy stays and the message comes back.
      if (!source && !wantDelete && decision?.clusters.some((c) => c.name === cluster)) {
        log.warn(
          `Keeping ${describeRef(ref)} on ${cluster}: kcp answered not found, but decision v${decision.decisionVersion} still places it there`,
          {
            delaySeconds: SOURCE_MISSING_RECHECK_SECONDS,
          },
        );
        deps.metrics.increment('tmc_sync_operations_total', { result: 'deferred', cluster, resource });
        return { result: 'deferred', delaySeconds: SOURCE_MISSING_RECHECK_SECONDS, category: 'resource-not-found' };
      }
      if (!source || source.metadata.deletionTimestamp || wantDelete) {
        await deleteFromCluster(ctx, source);
        // The copy is gone: the kcp object's status must stop counting it and say where it runs now, or why nowhere.
        await deps.status
          ?.refresh(ref)
          .catch((err: unknown) => log.warn('Could not refresh status after deleting', { error: String(err) }));
        deps.metrics.increment('tmc_sync_operations_total', { result: 'deleted', cluster, resource });
        return { result: 'deleted' };
      }
      const client = await deps.kube.cluster(ref.workspace, cluster);
      const wait =
        (await verifyServed(ctx, client, ref, cluster, receiveCount)) ??
        (await awaitBoundRole(ctx, client, source, receiveCount));
      if (wait !== undefined) {
        deps.metrics.increment('tmc_sync_operations_total', { result: 'deferred', cluster, resource });
        return { result: 'deferred', delaySeconds: wait, category: 'sync-failure' };
      }
      const fullRef: ObjectRef = { ...ref, uid: ref.uid ?? source.metadata.uid };
      if (ref.namespace) await ensureNamespace(ctx, client, ref.workspace, ref.namespace);
      await syncDependencies(ctx, client, source);
      const outcome = await syncObjectToCluster(ctx, client, fullRef, source, placementFor(decision, cluster));
      deps.metrics.increment('tmc_sync_operations_total', { result: outcome, cluster, resource });
      if (outcome === 'applied') {
        // Counted, not repeated: the recorder raises this Event's count on every later apply (docs/syncer.md, Events).
        await deps.events?.record(fullRef, { type: 'Normal', reason: 'Applied', message: `Applied to ${cluster}` });
        const enqueuedAt = Date.parse(message.trace.enqueuedAt);
        if (!Number.isNaN(enqueuedAt))
          deps.metrics.observe('tmc_sync_lag_seconds', { cluster }, Math.max(0, (Date.now() - enqueuedAt) / 1000));
      }
      return { result: outcome };
    } catch (thrown) {
      const raised = asTmcError(thrown);
      // A namespaced apply answered 404: its downstream namespace was deleted under it (the last object in it went).
      // The next delivery re-creates the namespace, so it is retried with backoff, never recorded as final.
      const namespaceGone = raised instanceof NotFoundError && ref.namespace !== undefined;
      const err = namespaceGone
        ? new TmcError(
            'sync-failure',
            `${describeRef(ref)} could not be applied to ${cluster}: its namespace there was deleted meanwhile; applying it again`,
            { cause: raised, cluster, object: describeRef(ref) },
          )
        : raised;
      // Counts only unreachable/unavailable clusters (the breaker's categories); best effort like recordFailure below.
      await deps.breaker
        ?.recordFailure(cluster, err)
        .catch((e: unknown) =>
          log.warn('Could not record a failure on the circuit', { error: asTmcError(e).toJSON() }),
        );
      await deps
        .reportClusterFailure?.(cluster, err, { workspace: ref.workspace })
        .catch((e: unknown) =>
          log.warn("Could not record the failure in the cluster's health", { error: asTmcError(e).toJSON() }),
        );
      const outcome = failureOutcome(err, receiveCount, { policy: deps.backoff, random: deps.random });
      if ((outcome.action === 'refetch-retry' || namespaceGone) && attempt < MAX_ATTEMPTS) {
        log.info('Retrying after a concurrent change', { attempt, category: err.category });
        fresh = true;
        if (namespaceGone) deps.namespaces.clear();
        continue;
      }
      if (outcome.action === 'ignore') return { result: 'stale' };
      await recordFailure(deps, message, err, log);
      if (outcome.action === 'defer') {
        deps.metrics.increment('tmc_retries_total', { function: 'sync-apply', category: err.category });
        deps.metrics.increment('tmc_sync_operations_total', { result: 'deferred', cluster, resource });
        log.warn('Deferring after a transient failure', { error: err.toJSON(), delaySeconds: outcome.delaySeconds });
        return { result: 'deferred', delaySeconds: outcome.delaySeconds, category: err.category };
      }
      // refetch-retry exhausted is recorded like any other failure and retried by SQS.
      if (outcome.action === 'refetch-retry') return { result: 'deferred', delaySeconds: 0, category: err.category };
      deps.metrics.increment('tmc_sync_operations_total', {
        result: err.category === 'sync-conflict' ? 'conflict' : 'failed',
        cluster,
        resource,
      });
      log.warn('Recorded a failure that retrying cannot fix', { error: err.toJSON() });
      return { result: 'recorded' };
    }
  }
}

/**
 * Records the reason on the sync item and shows it on the kcp object, once per distinct reason: a message retried ten
 * times for the same 503 writes once, not ten times.
 */
async function recordFailure(deps: SyncApplyDeps, message: SyncMessage, err: TmcError, log: Log): Promise<void> {
  const { ref, cluster } = message;
  try {
    const existing = await deps.syncState.get(ref, cluster);
    const state = err.category === 'sync-conflict' ? 'conflict' : 'failed';
    const secretSafe =
      ref.kind === 'Secret'
        ? `${describeRef(ref)} was rejected by ${cluster}${err.statusCode ? ` (HTTP ${err.statusCode})` : ''}`
        : err.message;
    if (
      existing?.state === state &&
      existing.lastError?.category === err.category &&
      existing.lastError.message === secretSafe
    )
      return;
    const at = new Date((deps.now ?? systemClock)()).toISOString();
    await deps.syncState.put({
      ...(existing ?? { ref, cluster, appliedGeneration: 0 }),
      ref: existing?.ref ?? ref,
      cluster,
      state,
      decisionVersion: Math.max(message.decisionVersion, existing?.decisionVersion ?? 0),
      lastError: { category: err.category, message: secretSafe, hint: err.hint, statusCode: err.statusCode, at },
      updatedAt: at,
      traceId: message.trace.traceId,
    });
    await deps.events?.record(ref, {
      type: 'Warning',
      reason: reasonOf(err.category),
      message: `${cluster}: ${secretSafe}`,
    });
    await deps.status?.refresh(ref);
  } catch (recordErr) {
    // Recording is best effort: the message outcome (defer or drop) stands either way.
    log.error('Could not record the sync failure', { error: asTmcError(recordErr).toJSON() });
  }
}
