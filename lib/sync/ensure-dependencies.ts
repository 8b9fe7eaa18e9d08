import { systemClock } from '../ports/clock';
import {
  CLUSTER_KEY_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAMESPACE_LOCATOR_ANNOTATION,
  WORKSPACE_ANNOTATION,
  clusterKey,
  downstreamNamespace,
} from '../api/labels';
import { namespaceRef, type ObjectRef } from '../api/object-ref';
import type { KubeClient, KubeObject } from '../ports/kube-client';
import { MAX_INLINE_DEPENDENCIES, podTemplateReferences } from './dependencies';
import { isJsonObject } from './pod-spec';
import { pairKey, placementFor, syncObjectToCluster, type SyncContext } from './sync-object';
import { ownershipOf } from './transform';

/** Downstream namespaces this container has seen applied: `<cluster>|<namespace>`. */
export type NamespaceCache = Set<string>;

export function downstreamNamespaceObject(workspace: string, namespace: string, cluster: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: downstreamNamespace(workspace, namespace),
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [CLUSTER_KEY_LABEL]: clusterKey(workspace, cluster) },
      annotations: {
        [WORKSPACE_ANNOTATION]: workspace,
        // The shape kcp's syncer wrote, so tools that read it (and people) find the source.
        [NAMESPACE_LOCATOR_ANNOTATION]: JSON.stringify({
          syncTarget: { name: cluster, workspace },
          workspace,
          namespace,
        }),
      },
    },
  };
}

/**
 * The downstream namespace exists before anything is applied into it. Checked in this order, cheapest first: this
 * container's cache, the namespace's sync item (one read), and only then an apply (one write, recorded).
 */
export async function ensureNamespace(
  ctx: SyncContext,
  client: KubeClient,
  workspace: string,
  namespace: string,
): Promise<boolean> {
  const key = `${ctx.message.cluster}|${downstreamNamespace(workspace, namespace)}`;
  if (ctx.deps.namespaces.has(key)) return false;
  return ctx.deps.locks.run(`namespace#${key}`, () => applyNamespaceOnce(ctx, client, workspace, namespace, key));
}

async function applyNamespaceOnce(
  ctx: SyncContext,
  client: KubeClient,
  workspace: string,
  namespace: string,
  key: string,
): Promise<boolean> {
  if (ctx.deps.namespaces.has(key)) return false; // another message of this batch did it while this one waited
  const cluster = ctx.message.cluster;
  const name = downstreamNamespace(workspace, namespace);
  const ref = namespaceRef(workspace, namespace);
  const record = await ctx.deps.syncState.get(ref, cluster);
  const apply = record?.state !== 'applied';
  if (apply) {
    // A namespace of that name that tmc did not create (a cluster admin made it ahead): tmc places its copies into it
    // but never claims it (a forced apply would add tmc's labels), so tmc never deletes it either (lib/sync/delete.ts).
    const current = await client.get({ group: '', version: 'v1', resource: 'namespaces', name });
    let applied: KubeObject;
    if (current && ownershipOf(current, '') === 'unmanaged') {
      ctx.log.info(
        `Using Namespace ${name} on ${cluster}: it exists and tmc did not create it, so tmc leaves it as it is`,
      );
      applied = current;
    } else {
      ctx.log.info(`Applying Namespace ${name} to ${cluster}`);
      applied = await client.apply(
        { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace' },
        downstreamNamespaceObject(workspace, namespace, cluster),
        { force: true },
      );
    }
    const at = new Date((ctx.deps.now ?? systemClock)()).toISOString();
    await ctx.deps.syncState.put({
      ref,
      cluster,
      state: 'applied',
      decisionVersion: record?.decisionVersion ?? 0,
      appliedGeneration: 0,
      downstreamGeneration: applied.metadata.generation,
      downstreamNamespace: name,
      updatedAt: at,
      appliedAt: at,
    });
  }
  ctx.deps.namespaces.add(key);
  return apply;
}

/**
 * What the pod template references is on the cluster before the workload: each ConfigMap, Secret, ServiceAccount or
 * PVC that exists in kcp and is not recorded as applied on this cluster is synced now, in this invocation. Bounded
 * by MAX_INLINE_DEPENDENCIES; dependencies' own references are not followed (core objects have no pod templates).
 * A reference kcp does not have is skipped: the workload waits on the cluster, as it would on a single cluster.
 */
export async function syncDependencies(ctx: SyncContext, client: KubeClient, source: KubeObject): Promise<number> {
  const { ref, cluster } = ctx.message;
  let synced = 0;
  for (const depRef of dependencyRefs(ref, source)) {
    if (await ctx.deps.locks.run(pairKey(depRef, cluster), () => syncDependency(ctx, client, depRef))) synced++;
  }
  return synced;
}

/** The objects `source` (of `ref`) references that {@link syncDependencies} syncs first, at most MAX_INLINE_DEPENDENCIES. */
export function dependencyRefs(ref: ObjectRef, source: KubeObject): ObjectRef[] {
  const namespace = ref.namespace;
  if (!namespace) return [];
  return podTemplateReferences(source)
    .slice(0, MAX_INLINE_DEPENDENCIES)
    .map((dep) => ({
      workspace: ref.workspace,
      group: '',
      version: 'v1',
      resource: dep.resource,
      kind: dep.kind,
      namespace,
      name: dep.name,
    }));
}

/** One referenced object, under its pair lock so its own message in the same batch does not apply it twice. */
async function syncDependency(ctx: SyncContext, client: KubeClient, depRef: ObjectRef): Promise<boolean> {
  const { cluster } = ctx.message;
  const record = await ctx.deps.syncState.get(depRef, cluster);
  if (record?.state === 'applied') return false;
  const kcp = await ctx.deps.kube.kcp(depRef.workspace);
  const object = await kcp.get(depRef);
  if (!object || object.metadata.deletionTimestamp) {
    ctx.log.debug('Skipping a referenced object kcp does not have', { dependency: `${depRef.kind}/${depRef.name}` });
    return false;
  }
  const decision = await ctx.deps.syncState.decision(depRef);
  const outcome = await syncObjectToCluster(
    ctx,
    client,
    { ...depRef, uid: object.metadata.uid },
    object,
    placementFor(decision, cluster),
    {
      existing: record,
      decisionVersion: Math.max(decision?.decisionVersion ?? 0, record?.decisionVersion ?? 0),
    },
  );
  return outcome === 'applied';
}

const CRD_TYPE = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' } as const;

/** Seconds a custom resource waits before asking again whether its CRD is Established on the cluster. */
export const DEFINITION_WAIT_SECONDS = 2;
/** Deliveries a custom resource waits for its CRD to be placed on the cluster before it is reported unserved. */
export const DEFINITION_PLACEMENT_WAITS = 3;

export type DefinitionState = { state: 'none' | 'established' } | { state: 'wait'; seconds: number };

/** The kcp CRD that defines `ref`'s kind: named `<plural>.<group>`, as Kubernetes requires. */
export function definitionRef(ref: ObjectRef): ObjectRef {
  return {
    workspace: ref.workspace,
    ...CRD_TYPE,
    kind: 'CustomResourceDefinition',
    name: `${ref.resource}.${ref.group}`,
  };
}

function established(crd: KubeObject | undefined): boolean {
  const conditions = isJsonObject(crd?.status) ? crd.status.conditions : undefined;
  return (
    Array.isArray(conditions) &&
    conditions.some((c: unknown) => isJsonObject(c) && c.type === 'Established' && c.status === 'True')
  );
}

/**
 * A custom resource whose kind the cluster does not serve yet: when the workspace defines the kind with a CRD that
 * tmc places on this cluster, that CRD is applied first (as a referenced object is) and the custom resource waits
 * until the cluster reports it Established — a wait, not a failed apply. `established`: the CRD is there (the
 * caller's discovery may still lag); `wait`: ask again that much later; `none`: kcp has no CRD of the kind, or it is
 * not placed here (the caller reports the kind missing).
 */
export async function awaitDefinition(
  ctx: SyncContext,
  client: KubeClient,
  ref: ObjectRef,
  receiveCount: number,
): Promise<DefinitionState> {
  const none: DefinitionState = { state: 'none' };
  if (!ref.group) return none;
  const crdRef = definitionRef(ref);
  const kcp = await ctx.deps.kube.kcp(ref.workspace);
  const crd = await kcp.get(crdRef);
  if (!crd || crd.metadata.deletionTimestamp) return none;
  const { cluster } = ctx.message;
  const decision = await ctx.deps.syncState.decision(crdRef);
  // Not placed here (yet): its placement follows the workspace's work and comes shortly; never applied unplaced. A
  // CRD a Placement keeps off this cluster never comes: after a few deliveries the caller records the kind missing.
  if (!decision?.clusters.some((c) => c.name === cluster)) {
    if (receiveCount > DEFINITION_PLACEMENT_WAITS) return none;
    ctx.log.info(
      `Waiting for CustomResourceDefinition ${crdRef.name} to be placed on ${cluster} before ${ref.kind} ${ref.name}`,
    );
    return { state: 'wait', seconds: DEFINITION_WAIT_SECONDS };
  }
  await ctx.deps.locks.run(pairKey(crdRef, cluster), () => syncDependency(ctx, client, crdRef));
  if (established(await client.get({ ...CRD_TYPE, name: crdRef.name }))) return { state: 'established' };
  ctx.log.info(
    `Waiting for CustomResourceDefinition ${crdRef.name} to be Established on ${cluster} before ${ref.kind} ${ref.name}`,
  );
  return { state: 'wait', seconds: DEFINITION_WAIT_SECONDS };
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const BINDING_RESOURCES = new Set(['clusterrolebindings', 'rolebindings']);
/** Deliveries a binding waits for its role (one of the workspace's, not on the cluster yet) before it goes anyway. */
const ROLE_WAITS = 3;

/**
 * The role a ClusterRoleBinding or RoleBinding (`ref`, read from kcp as `source`) references, as a ref in the
 * binding's workspace: a ClusterRole, or a Role in the binding's namespace. Undefined for any other object.
 */
export function boundRoleRef(ref: ObjectRef, source: KubeObject): ObjectRef | undefined {
  if (ref.group !== RBAC_GROUP || !BINDING_RESOURCES.has(ref.resource)) return undefined;
  const roleRef = source.roleRef;
  if (!isJsonObject(roleRef) || roleRef.apiGroup !== RBAC_GROUP || typeof roleRef.name !== 'string') return undefined;
  const base = { workspace: ref.workspace, group: RBAC_GROUP, version: 'v1', name: roleRef.name };
  if (roleRef.kind === 'ClusterRole') return { ...base, resource: 'clusterroles', kind: 'ClusterRole' };
  if (roleRef.kind === 'Role' && ref.namespace)
    return { ...base, resource: 'roles', kind: 'Role', namespace: ref.namespace };
  return undefined;
}

/**
 * ClusterRoles (and Roles) before their bindings: a binding whose role is one of the workspace's kcp objects waits
 * until that role is on the cluster. Seconds to wait, or undefined to apply now: the binding is already there, its
 * role is not tmc's (a built-in such as `cluster-admin`), placement keeps the role off this cluster, or the role has
 * not come within {@link ROLE_WAITS} deliveries (Kubernetes accepts a binding to a missing role; never a DLQ).
 */
export async function awaitBoundRole(
  ctx: SyncContext,
  client: KubeClient,
  source: KubeObject,
  receiveCount: number,
): Promise<number | undefined> {
  const { ref, cluster } = ctx.message;
  const roleRef = boundRoleRef(ref, source);
  if (!roleRef || ctx.existing?.state === 'applied') return undefined;
  const kcp = await ctx.deps.kube.kcp(ref.workspace);
  const role = await kcp.get(roleRef);
  if (!role || role.metadata.deletionTimestamp) return undefined;
  const [decision, record] = await Promise.all([
    ctx.deps.syncState.decision(roleRef),
    ctx.deps.syncState.get(roleRef, cluster),
  ]);
  if (decision && !decision.clusters.some((c) => c.name === cluster)) return undefined;
  if (record?.state === 'applied') return undefined;
  const downstream = {
    group: RBAC_GROUP,
    version: 'v1',
    resource: roleRef.resource,
    namespace: roleRef.namespace && downstreamNamespace(ref.workspace, roleRef.namespace),
    name: roleRef.name,
  };
  if (await client.get(downstream)) return undefined;
  if (receiveCount > ROLE_WAITS) {
    ctx.log.warn(`Applying ${ref.kind} ${ref.name} to ${cluster} before its ${roleRef.kind} ${roleRef.name}`, {
      receiveCount,
    });
    return undefined;
  }
  ctx.log.info(`Waiting for ${roleRef.kind} ${roleRef.name} to be on ${cluster} before ${ref.kind} ${ref.name}`);
  return DEFINITION_WAIT_SECONDS;
}
