import { createHash } from 'node:crypto';

/**
 * Names tmc writes on objects, kept from kcp's original TMC where one existed so kcp users recognise them.
 * Label values cannot hold ':' or '/', so workspace paths and object names travel in annotations; labels hold hashes.
 */

/** The one field manager for every server-side apply tmc makes. */
export const FIELD_MANAGER = 'tmc';

/** Finalizer on kcp objects: a delete completes only after every downstream copy is gone. */
export const SYNC_FINALIZER = 'workload.kcp.io/syncer';

/** On kcp objects: `state.workload.kcp.io/<cluster-key>: Sync` for each cluster the object is placed on. */
export const STATE_LABEL_PREFIX = 'state.workload.kcp.io/';
/** On kcp objects: per-cluster status detail as JSON. */
export const CLUSTER_STATUS_ANNOTATION_PREFIX = 'experimental.status.workload.kcp.io/';
/**
 * On kcp objects whose status cannot hold conditions (ConfigMap, Secret, PersistentVolume, …): JSON array of tmc's
 * `Synced` and `Placed` conditions, the ones other kinds carry in `status.conditions`.
 */
export const CONDITIONS_ANNOTATION = 'status.tmc.kcp.io/conditions';
/** Annotation prefixes of status tmc writes on kcp objects: never part of an object's content, never synced. */
export const STATUS_ANNOTATION_PREFIXES: readonly string[] = [CLUSTER_STATUS_ANNOTATION_PREFIX, 'status.tmc.kcp.io/'];
/** On kcp objects: set by a user to keep an object out of tmc. */
export const IGNORE_LABEL = 'tmc.kcp.io/ignore';

/** On downstream objects and namespaces. */
export const MANAGED_BY_LABEL = 'tmc.kcp.io/managed-by';
export const MANAGED_BY_VALUE = 'tmc';
export const CLUSTER_KEY_LABEL = 'tmc.kcp.io/cluster-key';
export const SOURCE_UID_LABEL = 'tmc.kcp.io/source-uid';
export const WORKSPACE_ANNOTATION = 'tmc.kcp.io/workspace';
/** JSON `{group, version, resource, kind, namespace, name}` of the kcp source object. */
export const SOURCE_ANNOTATION = 'tmc.kcp.io/source';
export const GENERATION_ANNOTATION = 'tmc.kcp.io/source-generation';
/**
 * On downstream cluster-scoped objects: JSON `[{workspace, uid, clusterKey}]`, every kcp object whose copy this is.
 * Workspaces that apply identical content share one copy; it is deleted when the last of them lets it go.
 */
export const OWNERS_ANNOTATION = 'tmc.kcp.io/owners';
/** On downstream cluster-scoped objects: the hash of their content without tmc's per-tenant metadata. */
export const CONTENT_HASH_ANNOTATION = 'tmc.kcp.io/content-hash';
/**
 * On a downstream namespace tmc is about to delete (its time): set before the last emptiness check, removed by an apply
 * that creates a copy in it meanwhile, so the DELETE (conditional on the marked version) fails (lib/sync/delete.ts).
 */
export const NAMESPACE_CLOSING_ANNOTATION = 'tmc.kcp.io/closing';
/** On downstream namespaces: JSON `{workspace, namespace, syncTarget}`, as kcp's syncer wrote it. */
export const NAMESPACE_LOCATOR_ANNOTATION = 'kcp.io/namespace-locator';

/**
 * Hashes already computed, by length and input: the inputs are a deployment's workspaces × clusters and workspaces ×
 * namespaces, asked for on every object a batch touches. Bounded: past the limit the oldest entry is forgotten.
 */
const knownHashes = new Map<string, string>();
const KNOWN_HASHES_LIMIT = 4096;

function shortHash(input: string, length: number): string {
  const memoKey = `${length}|${input}`;
  const known = knownHashes.get(memoKey);
  if (known !== undefined) return known;
  // base36 of sha256: lower-case alphanumerics are valid in label values and DNS-1123 names.
  const digest = createHash('sha256').update(input).digest();
  const hash = BigInt(`0x${digest.subarray(0, 16).toString('hex')}`)
    .toString(36)
    .padStart(length, '0')
    .slice(0, length);
  if (knownHashes.size >= KNOWN_HASHES_LIMIT) knownHashes.delete(knownHashes.keys().next().value!);
  knownHashes.set(memoKey, hash);
  return hash;
}

/** A SyncTarget's key, unique across workspaces: used in `state.workload.kcp.io/<key>`. */
export function clusterKey(workspace: string, syncTarget: string): string {
  return shortHash(`${workspace}:${syncTarget}`, 12);
}

/** The downstream namespace for (workspace, namespace): two workspaces never collide on one cluster. */
export function downstreamNamespace(workspace: string, namespace: string): string {
  return `kcp-${shortHash(`${workspace}/${namespace}`, 12)}`;
}

export function stateLabel(workspace: string, syncTarget: string): string {
  return `${STATE_LABEL_PREFIX}${clusterKey(workspace, syncTarget)}`;
}

/**
 * The `state.workload.kcp.io/<key>` labels an object placed on `clusters` should carry, as a merge patch of its
 * `labels`; undefined when they are right.
 */
export function stateLabelPatch(
  workspace: string,
  labels: Readonly<Record<string, string>> | undefined,
  clusters: readonly string[],
): Record<string, string | null> | undefined {
  const want = new Set(clusters.map((c) => stateLabel(workspace, c)));
  const patch: Record<string, string | null> = {};
  for (const key of want) if (labels?.[key] !== 'Sync') patch[key] = 'Sync';
  for (const key of Object.keys(labels ?? {}))
    if (key.startsWith(STATE_LABEL_PREFIX) && !want.has(key)) patch[key] = null;
  return Object.keys(patch).length ? patch : undefined;
}

export function clusterStatusAnnotation(workspace: string, syncTarget: string): string {
  return `${CLUSTER_STATUS_ANNOTATION_PREFIX}${clusterKey(workspace, syncTarget)}`;
}
