import { z } from 'zod';
import {
  CLUSTER_KEY_LABEL,
  CONTENT_HASH_ANNOTATION,
  GENERATION_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OWNERS_ANNOTATION,
  SOURCE_ANNOTATION,
  SOURCE_UID_LABEL,
  WORKSPACE_ANNOTATION,
  clusterKey,
} from '../api/labels';
import type { ObjectRef } from '../api/object-ref';
import type { KubeObject } from '../ports/kube-client';
import { stableHash } from '../kube/canonical-hash';

/**
 * Cluster-scoped objects (a CRD, a ClusterRole, a StorageClass) have one name per cluster, so two workspaces that
 * install the same application name the same downstream object. tmc records on the copy every kcp object it stands
 * for (`tmc.kcp.io/owners`) with a hash of its tenant-neutral content: identical content is shared, different content
 * is a conflict for the later workspace, and the copy is deleted only when its last owner lets it go.
 */

/** One kcp object a downstream copy stands for. */
export interface Owner {
  workspace: string;
  uid: string;
  /** The SyncTarget's key in that workspace (`tmc.kcp.io/cluster-key`), to hand the copy's labels over to. */
  clusterKey: string;
}

const OwnersSchema = z.array(z.object({ workspace: z.string().min(1), uid: z.string(), clusterKey: z.string() }));

/** Whether `ref`'s downstream copy is one object per cluster that every workspace names alike (not a Namespace). */
export function isSharedScope(ref: Pick<ObjectRef, 'namespace' | 'group' | 'resource'>): boolean {
  return ref.namespace === undefined && !(ref.group === '' && ref.resource === 'namespaces');
}

/** The owner entry of `ref` synced to `cluster`. */
export function ownerFor(ref: ObjectRef, uid: string, cluster: string): Owner {
  return { workspace: ref.workspace, uid, clusterKey: clusterKey(ref.workspace, cluster) };
}

const sameOwner = (a: Owner, b: Owner): boolean => a.workspace === b.workspace && a.uid === b.uid;

/** tmc's metadata that differs between workspaces holding identical content. */
const TENANT_LABELS = [CLUSTER_KEY_LABEL, SOURCE_UID_LABEL];
const TENANT_ANNOTATIONS = [
  WORKSPACE_ANNOTATION,
  SOURCE_ANNOTATION,
  GENERATION_ANNOTATION,
  OWNERS_ANNOTATION,
  CONTENT_HASH_ANNOTATION,
];

function without(record: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(record ?? {}).filter(([k]) => !keys.includes(k)));
}

/** The object without status and without tmc's per-tenant labels and annotations: what sharing compares. */
export function tenantNeutral(object: KubeObject): KubeObject {
  const { status: _status, ...rest } = object;
  return {
    ...rest,
    metadata: {
      ...rest.metadata,
      labels: without(rest.metadata.labels, TENANT_LABELS),
      annotations: without(rest.metadata.annotations, TENANT_ANNOTATIONS),
    },
  };
}

/** The hash two workspaces' desired copies share exactly when their content is identical. */
export function contentHashOf(desired: KubeObject): string {
  return stableHash(tenantNeutral(desired));
}

/**
 * Every owner recorded on a downstream copy. A copy written before owners were recorded (or whose annotation a
 * cluster user mangled) has the one owner its ownership labels name.
 */
export function ownersOf(object: KubeObject): Owner[] {
  const raw = object.metadata.annotations?.[OWNERS_ANNOTATION];
  if (raw !== undefined) {
    try {
      const parsed = OwnersSchema.safeParse(JSON.parse(raw));
      if (parsed.success) return parsed.data;
    } catch {
      // not JSON: fall back to the labels below
    }
  }
  const workspace = object.metadata.annotations?.[WORKSPACE_ANNOTATION];
  const uid = object.metadata.labels?.[SOURCE_UID_LABEL];
  return workspace && uid ? [{ workspace, uid, clusterKey: object.metadata.labels?.[CLUSTER_KEY_LABEL] ?? '' }] : [];
}

/** The owners annotation's value: sorted, so the same set always serialises alike. */
export function ownersAnnotation(owners: readonly Owner[]): string {
  const sorted = [...owners].sort((a, b) => `${a.workspace}/${a.uid}`.localeCompare(`${b.workspace}/${b.uid}`));
  return JSON.stringify(sorted.map((o) => ({ workspace: o.workspace, uid: o.uid, clusterKey: o.clusterKey })));
}

/** What a workspace may do with the cluster's copy of a cluster-scoped object it wants there. */
export type SharedCopy =
  | { kind: 'absent' }
  /** Not created by tmc: never modified. */
  | { kind: 'unmanaged' }
  /** No other owner: written as this workspace wants it. */
  | { kind: 'sole' }
  /** Other owners, identical content: shared; `listed` says whether this owner is recorded already. */
  | { kind: 'shared'; owners: Owner[]; listed: boolean }
  /** Other owners, different content: theirs is left as it is. */
  | { kind: 'conflict'; others: Owner[] };

export function judgeSharedCopy(current: KubeObject | undefined, me: Owner, contentHash: string): SharedCopy {
  if (!current) return { kind: 'absent' };
  if (current.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return { kind: 'unmanaged' };
  const owners = ownersOf(current);
  const others = owners.filter((o) => !sameOwner(o, me));
  if (others.length === 0) return { kind: 'sole' };
  if (current.metadata.annotations?.[CONTENT_HASH_ANNOTATION] === contentHash)
    return { kind: 'shared', owners, listed: owners.length !== others.length };
  return { kind: 'conflict', others };
}

/** The desired copy as this owner writes it: its owners recorded beside the content hash. */
export function withOwners(desired: KubeObject, owners: readonly Owner[], contentHash: string): KubeObject {
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: {
        ...(desired.metadata.annotations ?? {}),
        [OWNERS_ANNOTATION]: ownersAnnotation(owners),
        [CONTENT_HASH_ANNOTATION]: contentHash,
      },
    },
  };
}

/** What releasing a copy leaves: delete it (no owner left) or keep it for the others, relabelled if this was the named owner. */
export type Release =
  { kind: 'delete' } | { kind: 'keep'; patch: Record<string, unknown>; others: Owner[] } | { kind: 'not-owner' };

/**
 * How `me` lets go of the copy: the last owner deletes it; otherwise it is removed from the owners, and when the copy's
 * labels name it, they are handed to the next owner (status and the orphan sweep follow those labels). The patch
 * carries the resourceVersion read, so an owner joining meanwhile is a 409 and the release is judged again.
 */
export function releaseSharedCopy(current: KubeObject, me: Owner): Release {
  const owners = ownersOf(current);
  if (!owners.some((o) => sameOwner(o, me))) return { kind: 'not-owner' };
  const others = owners.filter((o) => !sameOwner(o, me));
  if (others.length === 0) return { kind: 'delete' };
  const named =
    current.metadata.labels?.[SOURCE_UID_LABEL] === me.uid &&
    current.metadata.annotations?.[WORKSPACE_ANNOTATION] === me.workspace;
  const next = others[0];
  const metadata: Record<string, unknown> = {
    resourceVersion: current.metadata.resourceVersion,
    annotations: {
      [OWNERS_ANNOTATION]: ownersAnnotation(others),
      ...(named ? { [WORKSPACE_ANNOTATION]: next.workspace, [GENERATION_ANNOTATION]: null } : {}),
    },
    ...(named ? { labels: { [SOURCE_UID_LABEL]: next.uid, [CLUSTER_KEY_LABEL]: next.clusterKey } } : {}),
  };
  return { kind: 'keep', patch: { metadata }, others };
}
