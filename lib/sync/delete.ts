import { systemClock } from '../ports/clock';
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAMESPACE_CLOSING_ANNOTATION,
  SYNC_FINALIZER,
  downstreamNamespace,
} from '../api/labels';
import { ConflictError } from '../errors/tmc-error';
import { SYNC_TARGET_GROUP, SYNC_TARGET_RESOURCE, SYNC_TARGET_VERSION } from '../api/crds/sync-target';
import { describeRef, namespaceRef } from '../api/object-ref';
import type { KubeClient, KubeObject } from '../ports/kube-client';
import type { SyncContext } from './sync-object';
import { ownershipOf } from './transform';
import { isSharedScope, ownerFor, releaseSharedCopy } from './shared-ownership';

/**
 * Removes the object from one cluster (absent is success; an object tmc does not own is left alone), marks the sync
 * item deleted, deletes the downstream namespace when nothing of tmc's is left in it, and releases the kcp object's
 * finalizer once every cluster it was synced to is clean.
 */
export async function deleteFromCluster(ctx: SyncContext, source: KubeObject | undefined): Promise<void> {
  const { ref, cluster } = ctx.message;
  const describe = describeRef(ref);
  const namespace = ref.namespace ? downstreamNamespace(ref.workspace, ref.namespace) : undefined;
  const target = { group: ref.group, version: ref.version, resource: ref.resource, namespace, name: ref.name };
  const alreadyDeleted = ctx.existing?.state === 'deleted';
  const markDeleted = async (): Promise<void> => {
    const at = new Date((ctx.deps.now ?? systemClock)()).toISOString();
    await ctx.deps.syncState.put({
      ...(ctx.existing ?? { ref, appliedGeneration: 0 }),
      cluster,
      state: 'deleted',
      decisionVersion: ctx.decisionVersion,
      downstreamNamespace: namespace,
      lastError: undefined,
      updatedAt: at,
      traceId: ctx.message.trace.traceId,
    });
  };
  // Its SyncTarget was deleted: nothing can reach the cluster through tmc any more (a container may still hold a
  // client for it, whose requests now fail). The copy there is left, and the kcp object's delete must not wait for a
  // cluster that is gone. Only a successful kcp read that finds no SyncTarget says so; any other failure retries.
  const leaveOnGoneCluster = async (err: unknown): Promise<void> => {
    if (!(await syncTargetGone(ctx, ref.workspace, cluster))) throw err;
    ctx.log.warn(
      `Leaving ${describe} on ${cluster}: SyncTarget ${cluster} no longer exists in ${ref.workspace}, so tmc cannot reach the cluster; delete it there by hand`,
    );
    await markDeleted();
    await releaseFinalizer(ctx, source);
  };
  let client: KubeClient;
  try {
    client = await ctx.deps.kube.cluster(ref.workspace, cluster);
  } catch (err) {
    if (alreadyDeleted) throw err;
    return leaveOnGoneCluster(err);
  }

  if (!alreadyDeleted) {
    try {
      const current = await client.get(target);
      const uid = ref.uid ?? source?.metadata.uid ?? ctx.existing?.ref.uid ?? '';
      const ownership = ownershipOf(current, uid);
      if (current && isSharedScope(ref) && ownership !== 'unmanaged') {
        await releaseShared(ctx, client, current, uid);
      } else if (ownership === 'owned') {
        ctx.log.info(`Deleting ${describe} from ${cluster}`);
        await client.delete(target);
      } else if (ownership !== 'absent') {
        ctx.log.warn(`Leaving ${describe} on ${cluster}: tmc does not own it`, { ownership });
      }
    } catch (err) {
      return leaveOnGoneCluster(err);
    }
    await markDeleted();
    if (namespace && ref.namespace) await deleteNamespaceIfEmpty(ctx, client, ref.workspace, ref.namespace, namespace);
  }
  await releaseFinalizer(ctx, source);
}

/**
 * Lets go of a cluster-scoped copy other workspaces may share: deleted by its last owner, else kept for the others.
 * Both writes are conditional on the version read: an owner joining meanwhile is a 409, retried with a fresh read.
 */
async function releaseShared(ctx: SyncContext, client: KubeClient, current: KubeObject, uid: string): Promise<void> {
  const { ref, cluster } = ctx.message;
  const describe = describeRef(ref);
  const target = { group: ref.group, version: ref.version, resource: ref.resource, name: ref.name };
  const release = releaseSharedCopy(current, ownerFor(ref, uid, cluster));
  switch (release.kind) {
    case 'not-owner':
      ctx.log.warn(`Leaving ${describe} on ${cluster}: it belongs to another kcp object`);
      return;
    case 'keep':
      ctx.log.info(
        `Keeping ${describe} on ${cluster} for workspace ${[...new Set(release.others.map((o) => o.workspace))].join(', ')}, which still uses it`,
      );
      await client.mergePatch(target, release.patch);
      return;
    case 'delete':
      ctx.log.info(`Deleting ${describe} from ${cluster}`);
      await client.delete(target, { resourceVersion: current.metadata.resourceVersion });
  }
}

/**
 * Positive evidence that a cluster is gone for good: kcp answers a successful read with no such SyncTarget, and
 * placement has dropped its mirror (it saw the SyncTarget deleted). A 404 alone may be a kcp fault.
 */
async function syncTargetGone(ctx: SyncContext, workspace: string, cluster: string): Promise<boolean> {
  const kcp = await ctx.deps.kube.kcp(workspace);
  if (
    (await kcp.get({
      group: SYNC_TARGET_GROUP,
      version: SYNC_TARGET_VERSION,
      resource: SYNC_TARGET_RESOURCE,
      name: cluster,
    })) !== undefined
  )
    return false;
  return !(await ctx.deps.syncState.knownClusters()).includes(cluster);
}

/**
 * A kcp Namespace no longer placed on the cluster (moved, or deleted in kcp): its downstream namespace goes now if
 * nothing of tmc's is left in it (an empty one would otherwise stay for good: it goes with its last object only when
 * an object is deleted from it), by the same checks; one that still holds tmc's objects goes with the last of them.
 * A namespace tmc did not create is never deleted. Nothing to do when the namespace's record holds no copy.
 */
export async function closeNamespace(ctx: SyncContext): Promise<void> {
  const { ref, cluster } = ctx.message;
  if (!ctx.existing || ctx.existing.state === 'deleted') return;
  let client: KubeClient;
  try {
    client = await ctx.deps.kube.cluster(ref.workspace, cluster);
  } catch (err) {
    if (!(await syncTargetGone(ctx, ref.workspace, cluster))) throw err;
    await ctx.deps.syncState.put({
      ...ctx.existing,
      state: 'deleted',
      updatedAt: new Date((ctx.deps.now ?? systemClock)()).toISOString(),
    });
    return;
  }
  await deleteNamespaceIfEmpty(ctx, client, ref.workspace, ref.name, downstreamNamespace(ref.workspace, ref.name));
}

async function deleteNamespaceIfEmpty(
  ctx: SyncContext,
  client: KubeClient,
  workspace: string,
  kcpNamespace: string,
  namespace: string,
): Promise<void> {
  const { cluster } = ctx.message;
  const remaining = await ctx.deps.syncState.listForCluster(cluster, { downstreamNamespace: namespace });
  // The namespace's own record has resource `namespaces`; anything else not deleted keeps the namespace.
  if (remaining.some((r) => r.ref.resource !== 'namespaces')) return;
  const target = { group: '', version: 'v1', resource: 'namespaces', name: namespace };
  const current = await client.get(target);
  if (current && ownershipOf(current, '') === 'owned') {
    // Marked first, then checked, then deleted only in the marked version: an apply that creates a copy in it after the
    // check sees the mark and removes it (lib/sync/sync-object.ts), so this DELETE is a 409 and the copy stays.
    let marked: KubeObject;
    try {
      marked = await client.mergePatch(target, {
        metadata: {
          resourceVersion: current.metadata.resourceVersion,
          annotations: { [NAMESPACE_CLOSING_ANNOTATION]: new Date((ctx.deps.now ?? systemClock)()).toISOString() },
        },
      });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      ctx.log.info(`Keeping Namespace ${namespace} on ${cluster}: it changed while tmc was about to delete it`);
      return;
    }
    // Sync items lag the cluster: a copy being applied now has none yet. Only the cluster's own complete read decides.
    const holder = await managedObjectIn(client, namespace);
    if (holder) {
      ctx.log.info(`Keeping Namespace ${namespace} on ${cluster}: the cluster still holds ${holder} of tmc's in it`);
      await client.mergePatch(target, { metadata: { annotations: { [NAMESPACE_CLOSING_ANNOTATION]: null } } });
      return;
    }
    ctx.log.info(`Deleting Namespace ${namespace} from ${cluster}: no tmc objects left in it`);
    try {
      await client.delete(target, { resourceVersion: marked.metadata.resourceVersion });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      ctx.log.info(`Keeping Namespace ${namespace} on ${cluster}: a copy was applied into it while tmc checked it`);
      return;
    }
  }
  ctx.deps.namespaces.delete(`${cluster}|${namespace}`);
  const nsRef = namespaceRef(workspace, kcpNamespace);
  const record = await ctx.deps.syncState.get(nsRef, cluster);
  if (record && record.state !== 'deleted') {
    await ctx.deps.syncState.put({
      ...record,
      state: 'deleted',
      updatedAt: new Date((ctx.deps.now ?? systemClock)()).toISOString(),
    });
  }
}

/**
 * The first object tmc placed in `namespace` (not being deleted) that the cluster lists (`<resource>/<name>`), or undefined when a
 * successful list of every namespaced type the cluster serves finds none. A failed list throws: never a reason to
 * delete.
 */
async function managedObjectIn(client: KubeClient, namespace: string): Promise<string | undefined> {
  const types = (await client.resources()).filter(
    (t) => t.namespaced && (t.verbs === undefined || t.verbs.includes('list')) && !t.resource.includes('/'),
  );
  for (const type of types) {
    const listed = await client.list(type, { namespace, labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` });
    // A copy already being deleted is on its way out and does not keep the namespace.
    const found = listed.find((o) => !o.metadata.deletionTimestamp);
    if (found) return `${type.resource}/${found.metadata.name}`;
  }
  return undefined;
}

/**
 * The kcp object's delete completes only when every cluster it was synced to is clean. The patch carries the
 * resourceVersion it read, so a concurrent finalizer change is a 409 (refetch and retry), and other finalizers are
 * kept as they were.
 */
async function releaseFinalizer(ctx: SyncContext, source: KubeObject | undefined): Promise<void> {
  const { ref } = ctx.message;
  const kcp = await ctx.deps.kube.kcp(ref.workspace);
  const object = source ?? (await kcp.get(ref));
  if (!object?.metadata.deletionTimestamp || !object.metadata.finalizers?.includes(SYNC_FINALIZER)) return;
  const records = await ctx.deps.syncState.listForObject(ref);
  for (const record of records.filter((r) => r.state !== 'deleted')) {
    // A copy on a cluster whose SyncTarget is gone (evacuated and then deregistered) can never be removed by tmc:
    // waiting for it would hold the delete for ever. Anything else still being removed keeps the finalizer.
    if (!(await syncTargetGone(ctx, ref.workspace, record.cluster))) return;
    ctx.log.warn(
      `Leaving ${describeRef(ref)} on ${record.cluster}: SyncTarget ${record.cluster} no longer exists in ${ref.workspace}; delete it there by hand`,
      { cluster: record.cluster },
    );
    await ctx.deps.syncState.put({
      ...record,
      state: 'deleted',
      lastError: undefined,
      updatedAt: new Date((ctx.deps.now ?? systemClock)()).toISOString(),
    });
  }
  const finalizers = object.metadata.finalizers.filter((f) => f !== SYNC_FINALIZER);
  ctx.log.info(`Removing the sync finalizer from ${describeRef(ref)}: every cluster is clean`);
  await kcp.mergePatch(ref, { metadata: { finalizers, resourceVersion: object.metadata.resourceVersion } });
}
