import type { SyncMessage } from '../api/messages';
import { describeRef, gvrKey, objectKey, type ObjectRef } from '../api/object-ref';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, WORKSPACE_ANNOTATION, downstreamNamespace } from '../api/labels';
import { NotFoundError } from '../errors/tmc-error';
import type { StoredDecision } from '../ports/decision-store';
import type { KubeObject } from '../ports/kube-client';
import { syncRecordKey, type SyncRecord, type SyncStateReads } from '../ports/sync-state-store';
import { boundRoleRef, dependencyRefs } from '../sync/ensure-dependencies';
import { isJsonObject } from '../sync/pod-spec';
import { ownersOf } from '../sync/shared-ownership';
import { copyPresent } from '../sync/status/placed-condition';
import { act, newTrace, type RecoverySweepDeps, type RecoverySweepReport } from './deps';

/** A copy recorded on a cluster that its object's own decision neither names nor removed in its last change. */
export interface StrayCopy {
  decision: StoredDecision;
  cluster: string;
}

type Gvr = { group: string; version: string; resource: string };

/** Kinds whose pod templates take ConfigMaps, Secrets, ServiceAccounts and PVCs along (lib/sync/dependencies.ts). */
const WORKLOAD_KINDS: Gvr[] = [
  { group: 'apps', version: 'v1', resource: 'deployments' },
  { group: 'apps', version: 'v1', resource: 'statefulsets' },
  { group: 'apps', version: 'v1', resource: 'daemonsets' },
  { group: 'apps', version: 'v1', resource: 'replicasets' },
  { group: 'batch', version: 'v1', resource: 'jobs' },
  { group: 'batch', version: 'v1', resource: 'cronjobs' },
  { group: '', version: 'v1', resource: 'replicationcontrollers' },
];

/**
 * The copies of `decision`'s object that `records` (an entry per pair read, as in decisionGaps) show on a cluster the
 * decision does not name and its last change did not remove (those are decisionGaps' deletes): typically a ConfigMap or
 * Secret a workload took along as a dependency, left there when the workload moved away, a cluster-scoped object
 * whose delete was lost before a later decision, or a downstream namespace left when its Namespace moved away. Pure.
 * Not judged: clusters the decision rejected for health or taints, or may have (a failover cleanup may still be
 * waiting there).
 */
export function strayCopies(
  decision: StoredDecision,
  records: ReadonlyMap<string, SyncRecord | undefined>,
  clusters: Iterable<string>,
): StrayCopy[] {
  const { ref } = decision;
  const named = new Set([...decision.clusters.map((c) => c.name), ...decision.diff.removed]);
  const out: StrayCopy[] = [];
  for (const cluster of clusters) {
    if (named.has(cluster) || !copyPresent(records.get(syncRecordKey(ref, cluster)))) continue;
    if (decision.reason !== 'Deleted') {
      const e = decision.explanation.find((x) => x.cluster === cluster);
      if (e ? e.rejectedBy === 'health' || e.rejectedBy === 'taints' : decision.explanationOmitted > 0) continue;
    }
    out.push({ decision, cluster });
  }
  return out;
}

/** kcp's objects of a kind in one namespace; a kind kcp does not serve has none. Any other error propagates. */
async function listInNamespace(
  deps: RecoverySweepDeps,
  workspace: string,
  gvr: Gvr,
  namespace: string,
): Promise<KubeObject[]> {
  const kcp = await deps.kube.kcp(workspace);
  try {
    return await kcp.list(gvr, { namespace });
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    throw err;
  }
}

/**
 * The workloads of `namespace` in kcp that reference each object (by object key), from complete, successful lists of
 * the workload kinds and of every other kind tmc holds a copy of in that namespace on one of `clusters`.
 */
async function referencesIn(
  deps: RecoverySweepDeps,
  workspace: string,
  namespace: string,
  clusters: string[],
): Promise<Map<string, ObjectRef[]>> {
  const kinds = new Map(WORKLOAD_KINDS.map((g) => [gvrKey(g), g]));
  const downstream = downstreamNamespace(workspace, namespace);
  for (const cluster of clusters) {
    for (const r of await deps.syncState.listForCluster(cluster, { downstreamNamespace: downstream }))
      if (r.ref.resource !== 'namespaces')
        kinds.set(gvrKey(r.ref), { group: r.ref.group, version: r.ref.version, resource: r.ref.resource });
  }
  const referencing = new Map<string, ObjectRef[]>();
  for (const gvr of kinds.values()) {
    for (const object of await listInNamespace(deps, workspace, gvr, namespace)) {
      const ref: ObjectRef = {
        workspace,
        ...gvr,
        kind: object.kind,
        namespace,
        name: object.metadata.name ?? '',
        ...(object.metadata.uid ? { uid: object.metadata.uid } : {}),
      };
      for (const dep of dependencyRefs(ref, object)) {
        const key = objectKey(dep);
        referencing.set(key, [...(referencing.get(key) ?? []), ref]);
      }
    }
  }
  return referencing;
}

const isNamespaceRef = (ref: ObjectRef): boolean => ref.group === '' && ref.resource === 'namespaces';

/** The first of `users` that keeps a copy on `cluster`: placed there, still holding a copy there, or not answered. */
function keeperOf(users: ObjectRef[], reads: SyncStateReads, cluster: string): ObjectRef | undefined {
  return users.find((ref) => {
    const key = objectKey(ref);
    const recordKey = syncRecordKey(ref, cluster);
    if (!reads.decisions.has(key) || !reads.records.has(recordKey)) return true; // unanswered: keep
    const decision = reads.decisions.get(key);
    return !decision || decision.clusters.some((c) => c.name === cluster) || copyPresent(reads.records.get(recordKey));
  });
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const BINDING_KINDS: Gvr[] = [
  { group: RBAC_GROUP, version: 'v1', resource: 'clusterrolebindings' },
  { group: RBAC_GROUP, version: 'v1', resource: 'rolebindings' },
];

const refIn = (workspace: string, gvr: Gvr, object: KubeObject): ObjectRef => ({
  workspace,
  ...gvr,
  kind: object.kind,
  ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
  name: object.metadata.name ?? '',
  ...(object.metadata.uid ? { uid: object.metadata.uid } : {}),
});

/** The type a kcp CustomResourceDefinition defines (its first served version), or undefined when it names none. */
function definedType(crd: KubeObject): Gvr | undefined {
  const spec = isJsonObject(crd.spec) ? crd.spec : {};
  const names = isJsonObject(spec.names) ? spec.names : {};
  const served = (Array.isArray(spec.versions) ? spec.versions : []).find((v) => isJsonObject(v) && v.served === true);
  const version = isJsonObject(served) ? served.name : undefined;
  if (typeof spec.group !== 'string' || typeof names.plural !== 'string' || typeof version !== 'string')
    return undefined;
  return { group: spec.group, version, resource: names.plural };
}

/**
 * The kcp objects whose copies need the cluster-scoped `source` beside them: the ClusterRoleBindings and RoleBindings
 * of a ClusterRole, the custom resources of a CustomResourceDefinition (its removal would take them all). Undefined
 * when that is unknown (a list kcp answered not found, a definition without a served type): the copy is kept.
 */
async function clusterScopedUsers(
  deps: RecoverySweepDeps,
  workspace: string,
  ref: ObjectRef,
  source: KubeObject,
): Promise<ObjectRef[] | undefined> {
  const kcp = await deps.kube.kcp(workspace);
  const listed = async (gvr: Gvr): Promise<KubeObject[] | undefined> => {
    try {
      return await kcp.list(gvr);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  };
  if (ref.group === RBAC_GROUP && ref.resource === 'clusterroles') {
    const users: ObjectRef[] = [];
    for (const gvr of BINDING_KINDS) {
      const bindings = await listed(gvr);
      if (!bindings) return undefined;
      for (const binding of bindings) {
        const bindingRef = refIn(workspace, gvr, binding);
        const role = boundRoleRef(bindingRef, binding);
        if (role?.resource === 'clusterroles' && role.name === ref.name) users.push(bindingRef);
      }
    }
    return users;
  }
  if (ref.group === 'apiextensions.k8s.io' && ref.resource === 'customresourcedefinitions') {
    const type = definedType(source);
    const objects = type && (await listed(type));
    return type && objects ? objects.map((o) => refIn(workspace, type, o)) : undefined;
  }
  return [];
}

/** What keeps a cluster-scoped copy on `cluster`: one of its users placed there or still there (or unanswered). */
async function userOn(
  deps: RecoverySweepDeps,
  workspace: string,
  ref: ObjectRef,
  source: KubeObject,
  cluster: string,
): Promise<string | undefined> {
  const users = await clusterScopedUsers(deps, workspace, ref, source);
  if (users === undefined) return 'what uses it (its list could not be read)';
  const reads = await deps.syncState.readMany({
    decisions: users,
    records: users.map((user) => ({ ref: user, cluster })),
  });
  const keeper = keeperOf(users, reads, cluster);
  return keeper && describeRef(keeper);
}

/** A copy tmc recorded in the downstream namespace of `namespace` on `cluster` (its last one takes the namespace). */
async function recordedIn(
  deps: RecoverySweepDeps,
  workspace: string,
  namespace: string,
  cluster: string,
): Promise<string | undefined> {
  const records = await deps.syncState.listForCluster(cluster, {
    downstreamNamespace: downstreamNamespace(workspace, namespace),
  });
  const inside = records.find((r) => !isNamespaceRef(r.ref) && r.state !== 'deleted');
  return inside && describeRef(inside.ref);
}

type Send = (stray: StrayCopy, why: string) => Promise<void>;

/** Asks the deletion gate, as an un-placement does, and sends the delete it allows. */
async function removeThroughGate(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  stray: StrayCopy,
  send: Send,
  fields: Record<string, string | undefined>,
  why: string,
): Promise<void> {
  const verdict = await deps.guard.admitRemoval(stray.decision.ref, stray.cluster);
  if (verdict !== 'allow') {
    const key = `stray-delete:${verdict === 'hold' ? 'held' : 'waiting'}`;
    report.actions[key] = (report.actions[key] ?? 0) + 1;
    return;
  }
  deps.log.warn(
    `Removing ${describeRef(stray.decision.ref)} from ${stray.cluster}: its decision does not place it there`,
    fields,
  );
  await send(stray, why);
}

/**
 * Cluster-scoped strays, on positive evidence only: kcp's list of the type (successful) shows the object and a GET
 * finds it, with the decision's uid and not being deleted (anything else is the orphan sweep's or the delete path's
 * business: kept); no object that needs it beside it (a binding of a ClusterRole, a custom resource of a CRD) is placed
 * on that cluster or still has a copy there — for a Namespace, no copy of tmc's is recorded in its downstream
 * namespace there. The cluster's copy is let go of only when this workspace's object is one of its recorded owners
 * (sync-apply then releases it: deleted by its last owner, kept for the others; a namespace is closed by sync-apply's
 * own checks); a copy that is gone, not tmc's, or another workspace's only has its record cleared, through sync-apply,
 * which leaves the object.
 */
async function removeClusterScopedStrays(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  workspace: string,
  strays: StrayCopy[],
  send: Send,
): Promise<void> {
  const byType = new Map<string, StrayCopy[]>();
  for (const s of strays) byType.set(gvrKey(s.decision.ref), [...(byType.get(gvrKey(s.decision.ref)) ?? []), s]);
  const kcp = await deps.kube.kcp(workspace);
  for (const group of byType.values()) {
    const { group: g, version, resource } = group[0].decision.ref;
    const gvr = { group: g, version, resource };
    let listed: KubeObject[];
    try {
      listed = await kcp.list(gvr);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      deps.log.info(
        `Keeping ${group.length} ${resource} of ${workspace} off their decisions: kcp answered not found to their list`,
        {
          workspace,
          gvr: gvrKey(gvr),
        },
      );
      continue;
    }
    for (const stray of group) {
      const { ref } = stray.decision;
      const what = describeRef(ref);
      const fields = { workspace, cluster: stray.cluster, gvr: gvrKey(ref), name: ref.name };
      const sameObject = (o: KubeObject | undefined): o is KubeObject =>
        o !== undefined && o.metadata.name === ref.name && (!ref.uid || o.metadata.uid === ref.uid);
      if (!listed.some(sameObject)) {
        deps.log.debug(`Keeping ${what} on ${stray.cluster}: kcp's list does not show it`, fields);
        continue;
      }
      const source = await kcp.get(ref);
      if (!sameObject(source) || source.metadata.deletionTimestamp) {
        deps.log.debug(`Keeping ${what} on ${stray.cluster}: kcp's read of it does not confirm its list`, fields);
        continue;
      }
      const keeper = isNamespaceRef(ref)
        ? await recordedIn(deps, workspace, ref.name, stray.cluster)
        : await userOn(deps, workspace, ref, source, stray.cluster);
      if (keeper) {
        deps.log.debug(`Keeping ${what} on ${stray.cluster}: ${keeper} there needs it`, fields);
        continue;
      }
      const uid = ref.uid ?? source.metadata.uid ?? '';
      const client = await deps.kube.cluster(workspace, stray.cluster);
      const copy = await client.get({
        ...gvr,
        name: isNamespaceRef(ref) ? downstreamNamespace(workspace, ref.name) : ref.name,
      });
      // A downstream namespace's name is its workspace's own (a hash), and it records only the workspace.
      const owned =
        copy?.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE &&
        (isNamespaceRef(ref)
          ? copy.metadata.annotations?.[WORKSPACE_ANNOTATION] === workspace
          : ownersOf(copy).some((o) => o.workspace === workspace && o.uid === uid));
      if (!owned) {
        // Nothing is deleted (sync-apply leaves a copy this object does not own): no gate to ask.
        await send(
          stray,
          `${what} is not placed on ${stray.cluster} and the copy there is ${copy ? 'not its own' : 'gone'}: clearing its record, leaving the cluster as it is`,
        );
        continue;
      }
      await removeThroughGate(
        deps,
        report,
        stray,
        send,
        fields,
        `${what} is not placed on ${stray.cluster}, nothing tmc placed there uses it, but its copy there is still recorded`,
      );
    }
  }
}

/**
 * Removes stray copies (see {@link strayCopies}) on positive evidence only, and through the deletion gate:
 * - a copy of an object kcp deleted (its decision `Deleted`) gets its delete, as a lost delete would;
 * - any other namespaced stray is kept while a workload of its namespace in kcp references it and is placed on that
 *   cluster, or still has a copy there, or its decision or record could not be read (complete, successful reads only:
 *   a failed list stops the pass, and the next sweep asks again); a cluster-scoped one as
 *   {@link removeClusterScopedStrays} says;
 * - what is left asks the gate as an un-placement does (`unplace:<cluster>/<workspace>/<gvr>`): counted first and sent
 *   on a later sweep, held with the rest of a burst past the thresholds.
 * Nothing is deleted while deletions in the workspace or on one of its clusters are held (`held`).
 */
export async function removeStrayCopies(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  workspace: string,
  strays: StrayCopy[],
  held: boolean,
): Promise<SyncMessage[]> {
  if (strays.length === 0 || held) return [];
  const now = deps.now();
  const messages: SyncMessage[] = [];
  const send: Send = async (stray, why) => {
    messages.push({
      type: 'sync',
      ref: stray.decision.ref,
      cluster: stray.cluster,
      action: 'delete',
      decisionVersion: stray.decision.decisionVersion,
      trace: newTrace(now),
    });
    await act(deps, report, {
      action: 'resync-unsynced',
      outcome: 'enqueued',
      why,
      workspace,
      cluster: stray.cluster,
      ref: stray.decision.ref,
    });
  };
  const live: StrayCopy[] = [];
  for (const stray of strays) {
    const what = describeRef(stray.decision.ref);
    // A Namespace kcp deleted reaches the cluster through its objects' deletes; the last one takes the namespace.
    if (stray.decision.reason === 'Deleted' && isNamespaceRef(stray.decision.ref)) continue;
    if (stray.decision.reason === 'Deleted')
      await send(stray, `${what} is deleted but its copy on ${stray.cluster} is still recorded`);
    else live.push(stray);
  }
  const byNamespace = new Map<string, StrayCopy[]>();
  for (const s of live) {
    const ns = s.decision.ref.namespace;
    if (ns !== undefined) byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), s]);
  }
  for (const [namespace, group] of byNamespace) {
    const clusters = [...new Set(group.map((s) => s.cluster))];
    const referencing = await referencesIn(deps, workspace, namespace, clusters);
    const users = [...new Map([...referencing.values()].flat().map((r) => [objectKey(r), r])).values()];
    const reads = await deps.syncState.readMany({
      decisions: users,
      records: users.flatMap((ref) => clusters.map((cluster) => ({ ref, cluster }))),
    });
    for (const stray of group) {
      const what = describeRef(stray.decision.ref);
      const fields = {
        workspace,
        cluster: stray.cluster,
        gvr: gvrKey(stray.decision.ref),
        namespace,
        name: stray.decision.ref.name,
      };
      const user = keeperOf(referencing.get(objectKey(stray.decision.ref)) ?? [], reads, stray.cluster);
      if (user) {
        deps.log.debug(`Keeping ${what} on ${stray.cluster}: ${describeRef(user)} there references it`, fields);
        continue;
      }
      await removeThroughGate(
        deps,
        report,
        stray,
        send,
        fields,
        `${what} is not placed on ${stray.cluster}, no workload tmc placed there references it, but its copy there is still recorded`,
      );
    }
  }
  const clusterScoped = live.filter((s) => s.decision.ref.namespace === undefined);
  if (clusterScoped.length) await removeClusterScopedStrays(deps, report, workspace, clusterScoped, send);
  return messages;
}
