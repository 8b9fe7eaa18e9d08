import { systemClock } from '../ports/clock';
import type { StatusMessage, SyncMessage } from '../api/messages';
import { NAMESPACE_CLOSING_ANNOTATION, OWNERS_ANNOTATION } from '../api/labels';
import { describeRef, objectKey, type ObjectRef } from '../api/object-ref';
import { SyncConflictError, TmcError } from '../errors/tmc-error';
import type { KubeClient, KubeObject, ResourceName } from '../ports/kube-client';
import type { DecisionView, SyncRecord } from '../ports/sync-state-store';
import type { SyncApplyDeps } from './deps';
import type { Log } from '../observability/log';
import { contentKeyFor } from '../kube/canonical-hash';
import { downstreamHash, ownershipOf, toDownstream, type ClusterPlacement } from './transform';
import {
  contentHashOf,
  isSharedScope,
  judgeSharedCopy,
  ownerFor,
  ownersAnnotation,
  withOwners,
} from './shared-ownership';
import { reportFollowing } from './status/refresh-after-batch';

/** What every step of one message's reconcile shares. */
export interface SyncContext {
  deps: SyncApplyDeps;
  message: SyncMessage;
  existing: SyncRecord | undefined;
  log: Log;
  /** The highest decision version seen for this pair: what records are written with. */
  decisionVersion: number;
}

/** The lock key of one (object, cluster) pair. */
export function pairKey(ref: ObjectRef, cluster: string): string {
  return `${objectKey(ref)}#${cluster}`;
}

export function placementFor(decision: DecisionView | undefined, cluster: string): ClusterPlacement {
  const entry = decision?.clusters.find((c) => c.name === cluster);
  return {
    cluster,
    replicas: entry?.replicas,
    overrides: entry?.patch?.length ? [{ jsonPatch: entry.patch }] : undefined,
    ...(decision?.placement !== undefined ? { placement: decision.placement } : {}),
  };
}

/**
 * Applies `source` to one cluster unless the recorded hash says it is already there. `existing` is this pair's record
 * (undefined for dependencies, which read their own). Throws SyncConflictError when an object tmc does not own is in
 * the way: it is never overwritten.
 */
export async function syncObjectToCluster(
  ctx: SyncContext,
  client: KubeClient,
  ref: ObjectRef,
  source: KubeObject,
  placement: ClusterPlacement,
  recordOverride?: { existing: SyncRecord | undefined; decisionVersion: number },
): Promise<'applied' | 'unchanged'> {
  const existing = recordOverride ? recordOverride.existing : ctx.existing;
  const decisionVersion = recordOverride ? recordOverride.decisionVersion : ctx.decisionVersion;
  const skipped: string[] = [];
  const desired = toDownstream(source, ref, placement, (reason) => skipped.push(reason));
  const hash = downstreamHash(desired, await contentKeyFor(desired, ctx.deps.contentKey));
  if (existing?.state === 'applied' && existing.appliedHash === hash && !existing.driftReported) return 'unchanged';
  // Reported with the apply it shaped, so once per version of the object or decision, not on every resync.
  for (const reason of skipped) {
    ctx.log.warn(
      `Skipping an override of Placement ${placement.placement ?? '(unknown)'} for ${placement.cluster}: ${reason}`,
      {
        cluster: placement.cluster,
        placement: placement.placement,
      },
    );
  }

  const describe = describeRef(ref);
  const target = {
    group: ref.group,
    version: ref.version,
    resource: ref.resource,
    namespace: desired.metadata.namespace,
    name: ref.name,
  };
  // The downstream generation before this apply (0: it creates the object), when known: it says whether the
  // cluster's controller will report the apply (reportFollowing).
  let before = existing?.state === 'applied' ? existing.downstreamGeneration : undefined;
  // Whether this apply creates the copy (known when tmc looked first): a namespace being emptied may take it.
  let creates = false;
  let body = desired;
  let resourceVersion: string | undefined;
  let written: KubeObject | undefined;
  if (isSharedScope(ref)) {
    // One copy per cluster for every workspace: always look first, whatever this pair's record says.
    const shared = await judgeShared(ctx, client, target, ref, desired, placement.cluster);
    if (shared.kind === 'write') ({ body, resourceVersion } = shared);
    else written = shared.current;
  } else if (existing?.state !== 'applied') {
    // A record saying tmc applied this object is proof enough of ownership; otherwise look before writing.
    const current = await client.get(target);
    before = current ? current.metadata.generation : 0;
    creates = current === undefined;
    const ownership = ownershipOf(current, ref.uid ?? '');
    if (ownership === 'unmanaged' || ownership === 'foreign') {
      throw new SyncConflictError(
        ownership === 'unmanaged'
          ? `${describe} already exists on ${placement.cluster} and was not created by tmc; it is left untouched`
          : `${describe} on ${placement.cluster} belongs to another kcp object (a different source uid); it is left untouched`,
        { cluster: placement.cluster, object: describe },
      );
    }
  }
  if (!written) {
    ctx.log.info(`Applying ${describe} to ${placement.cluster}`);
    // force=true is safe here: the object is absent or carries tmc's ownership labels for this source (or, shared, the
    // same content with every owner kept, conditional on the version read).
    written = await client.apply(
      { group: ref.group, version: ref.version, resource: ref.resource, kind: ref.kind },
      body,
      { force: true, ...(resourceVersion ? { resourceVersion } : {}) },
    );
  }
  if (creates && target.namespace) await keepNamespaceOpen(ctx, client, target.namespace, describe);
  const applied = written;
  const at = new Date((ctx.deps.now ?? systemClock)()).toISOString();
  const record: SyncRecord = {
    ref,
    cluster: placement.cluster,
    state: 'applied',
    decisionVersion,
    appliedGeneration: source.metadata.generation ?? 0,
    desiredHash: hash,
    appliedHash: hash,
    downstreamGeneration: applied.metadata.generation,
    downstreamNamespace: desired.metadata.namespace,
    updatedAt: at,
    appliedAt: at,
    traceId: ctx.message.trace.traceId,
  };
  await ctx.deps.syncState.put(record);
  // First success or recovery from a failure: show it on the kcp object. So does a new generation: the cluster's
  // status message for it can reach status-up before this record is stored, and status-up's refresh then aggregates
  // against the old generation (observedGeneration held back) with nothing left to refresh kcp again; the stored
  // status equals the downstream one, so the backstop skips it too. Per batch this is one refresh per object
  // (RefreshAfterBatch), left to the cluster's own report when one follows and has not raced ahead of this record; a
  // re-apply of the same generation (drift repair, a no-op resync never gets here) does not ask. A dependency applied
  // ahead of its own message asks too: that message then finds it unchanged and asks nothing, and the object's first
  // refresh is what writes its state labels (placement leaves them to it). Its write may wait for the other placed
  // clusters' applies, and then comes back as a status-queue re-run (RefreshAfterBatch).
  const newGeneration = existing?.state === 'applied' && existing.appliedGeneration !== record.appliedGeneration;
  if (existing?.state !== 'applied' || newGeneration) {
    const rerun: StatusMessage = {
      type: 'status',
      ref,
      cluster: placement.cluster,
      rerun: true,
      trace: ctx.message.trace,
    };
    await ctx.deps.status
      ?.refresh(ref, reportFollowing(ref.kind, placement.cluster, before, applied.metadata.generation), rerun)
      .catch((err: unknown) => ctx.log.warn('Could not refresh status after applying', { error: String(err) }));
  }
  return 'applied';
}

/**
 * After creating a copy in `namespace`: a container deleting the namespace (its last object went) marks it closing
 * before its last emptiness check and deletes only the marked version (lib/sync/delete.ts). Removing the mark here
 * makes that DELETE fail, so a copy created after the check stays; a namespace already terminating (or gone) takes
 * the copy with it, so the apply is retried (no sync item is written for a copy that will not last).
 */
async function keepNamespaceOpen(
  ctx: SyncContext,
  client: KubeClient,
  namespace: string,
  describe: string,
): Promise<void> {
  const target = { group: '', version: 'v1', resource: 'namespaces', name: namespace };
  let ns = await client.get(target);
  if (ns && !ns.metadata.deletionTimestamp && ns.metadata.annotations?.[NAMESPACE_CLOSING_ANNOTATION] !== undefined) {
    ctx.log.info(`Keeping Namespace ${namespace} on ${ctx.message.cluster}: ${describe} was just created in it`);
    ns = await client.mergePatch(target, { metadata: { annotations: { [NAMESPACE_CLOSING_ANNOTATION]: null } } });
  }
  if (ns && !ns.metadata.deletionTimestamp) return;
  ctx.deps.namespaces.delete(`${ctx.message.cluster}|${namespace}`);
  throw new TmcError(
    'sync-failure',
    `${describe} was created in namespace ${namespace} on ${ctx.message.cluster} while the namespace was being deleted; applying it again once the namespace is back`,
    { cluster: ctx.message.cluster, object: describe },
  );
}

type SharedWrite =
  { kind: 'write'; body: KubeObject; resourceVersion?: string } | { kind: 'shared'; current: KubeObject };

/**
 * A cluster-scoped copy: written when no other workspace owns it (conditional on the version read, so an owner joining
 * meanwhile is a 409 and this is judged again); joined when others own identical content (only the owners annotation
 * changes); refused with the other workspaces named when their content differs or tmc did not create it.
 */
async function judgeShared(
  ctx: SyncContext,
  client: KubeClient,
  target: ResourceName,
  ref: ObjectRef,
  desired: KubeObject,
  cluster: string,
): Promise<SharedWrite> {
  const describe = describeRef(ref);
  const me = ownerFor(ref, ref.uid ?? '', cluster);
  const contentHash = contentHashOf(desired);
  const current = await client.get(target);
  const copy = judgeSharedCopy(current, me, contentHash);
  switch (copy.kind) {
    case 'absent':
      return { kind: 'write', body: withOwners(desired, [me], contentHash) };
    case 'sole':
      return {
        kind: 'write',
        body: withOwners(desired, [me], contentHash),
        resourceVersion: current?.metadata.resourceVersion,
      };
    case 'unmanaged':
      throw new SyncConflictError(
        `${describe} already exists on ${cluster} and was not created by tmc; it is left untouched`,
        { cluster, object: describe },
      );
    case 'conflict': {
      const others = [...new Set(copy.others.map((o) => o.workspace))].join(', ');
      throw new SyncConflictError(
        `${describe} on ${cluster} is already used by workspace ${others} with different content; it is left untouched (identical content is shared)`,
        { cluster, object: describe },
      );
    }
    case 'shared': {
      if (copy.listed || !current) return { kind: 'shared', current: current ?? desired };
      const others = [...new Set(copy.owners.map((o) => o.workspace))].join(', ');
      ctx.log.info(`Sharing ${describe} on ${cluster} with workspace ${others}: identical content`);
      const owners = ownersAnnotation([...copy.owners, me]);
      const joined = await client.mergePatch(target, {
        metadata: { resourceVersion: current.metadata.resourceVersion, annotations: { [OWNERS_ANNOTATION]: owners } },
      });
      return { kind: 'shared', current: joined };
    }
  }
}
