import { createHash } from 'node:crypto';
import { STATE_LABEL_PREFIX, STATUS_ANNOTATION_PREFIXES, SYNC_FINALIZER } from '../api/labels';
import type { KubeObjectShape } from '../api/messages';
import { canonicalJson } from '../kube/canonical-json';
import { KCP_CLUSTER_ANNOTATION } from './refs';

/** Top-level fields that are not the object's desired state. */
const NOT_DESIRED_STATE = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/** Annotations the server sets when it stores the object: absent from a CREATE's admission, present afterwards. */
const SERVER_SET_ANNOTATIONS = new Set([KCP_CLUSTER_ANNOTATION]);

function withoutPrefix(record: unknown, prefixes: readonly string[]): Record<string, unknown> {
  if (typeof record !== 'object' || record === null) return {};
  return Object.fromEntries(Object.entries(record).filter(([key]) => !prefixes.some((p) => key.startsWith(p))));
}

/**
 * Identifies what placement and sync care about in one version of an object, for ingress dedup:
 * labels (minus tmc's `state.workload.kcp.io/*`), annotations (minus tmc's per-cluster status, `tmc.kcp.io/*` and
 * kcp's own `kcp.io/cluster`, which kcp adds on storage),
 * deletionTimestamp, finalizers (minus tmc's), every top-level field but status (spec, data, rules, …), and whether
 * the object is being deleted.
 *
 * Left out on purpose: status and tmc's own label/annotation writes (otherwise placement's label patch would come back
 * as a new version and loop), resourceVersion (empty on admission CREATE, and it changes on every status write), and
 * uid and generation (both are assigned after admission on CREATE, so the admission and the ADDED event of one create
 * would differ; a spec change shows in the spec itself, and a delete-and-recreate passes because the delete's
 * fingerprint came in between).
 */
export function placementFingerprint(object: KubeObjectShape, deleted: boolean): string {
  const metadata = object.metadata;
  const desired = Object.fromEntries(Object.entries(object).filter(([key]) => !NOT_DESIRED_STATE.has(key)));
  const finalizers = Array.isArray(metadata.finalizers) ? metadata.finalizers.filter((f) => f !== SYNC_FINALIZER) : [];
  const material = {
    deleted: deleted || typeof metadata.deletionTimestamp === 'string',
    deletionTimestamp: metadata.deletionTimestamp,
    labels: withoutPrefix(metadata.labels, [STATE_LABEL_PREFIX]),
    annotations: Object.fromEntries(
      Object.entries(withoutPrefix(metadata.annotations, [...STATUS_ANNOTATION_PREFIXES, 'tmc.kcp.io/'])).filter(
        ([key]) => !SERVER_SET_ANNOTATIONS.has(key),
      ),
    ),
    finalizers,
    desired,
  };
  return createHash('sha256').update(canonicalJson(material)).digest('base64url');
}
