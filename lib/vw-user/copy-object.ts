import type { ObjectRef } from '../api/object-ref';
import type { KubeObject } from '../kube/object';
import { age, type TableColumn } from '../kube-api/table';
import type { ClusterStatusRecord } from '../ports/status-store';
import type { SyncRecord } from '../ports/sync-state-store';

/** The label that names a copy's cluster (SyncTarget): what `-l tmc.kcp.io/cluster=east` selects on. */
export const COPY_CLUSTER_LABEL = 'tmc.kcp.io/cluster';
/** When the cluster last reported the copy's status (RFC 3339); absent when it never has. */
export const STATUS_REPORTED_ANNOTATION = 'tmc.kcp.io/status-reported-at';
/** sync-apply's state of the copy: pending, applied, failed, conflict or deleting. */
export const SYNC_STATE_ANNOTATION = 'tmc.kcp.io/sync-state';
/** The last apply error's message, when the copy's sync failed. */
export const SYNC_ERROR_ANNOTATION = 'tmc.kcp.io/sync-error';
/** The workspace the copy's source object lives in. */
export const COPY_WORKSPACE_ANNOTATION = 'tmc.kcp.io/workspace';
/** The namespace the copy has on its cluster (a hash of workspace and namespace). */
export const DOWNSTREAM_NAMESPACE_ANNOTATION = 'tmc.kcp.io/downstream-namespace';

/** What tmc knows of one copy: its sync record, the status its cluster last reported, and its replica share. */
export interface CopyFacts {
  record: SyncRecord;
  /** Undefined when the cluster never reported. */
  status: ClusterStatusRecord | undefined;
  /** The decision's replicas for this cluster (divided or duplicated), when the kind has replicas. */
  replicas?: number;
}

/**
 * One copy as a Kubernetes object of its kind: the source's name and namespace in kcp, the cluster as a label, what
 * tmc recorded in annotations, `spec.replicas` as placement decided it and `.status` as the cluster reported it. It
 * carries nothing else of the object: tmc's table keeps hashes, never content (a copy may be a Secret).
 */
export function copyObject(facts: CopyFacts): KubeObject {
  const { record } = facts;
  const ref: ObjectRef = record.ref;
  const reported = facts.status;
  const annotations: Record<string, string> = {
    [COPY_WORKSPACE_ANNOTATION]: ref.workspace,
    [SYNC_STATE_ANNOTATION]: record.state,
    ...(record.downstreamNamespace ? { [DOWNSTREAM_NAMESPACE_ANNOTATION]: record.downstreamNamespace } : {}),
    ...(reported ? { [STATUS_REPORTED_ANNOTATION]: reported.observedAt } : {}),
    ...(record.lastError && (record.state === 'failed' || record.state === 'conflict')
      ? { [SYNC_ERROR_ANNOTATION]: record.lastError.message }
      : {}),
  };
  return {
    apiVersion: ref.group ? `${ref.group}/${ref.version}` : ref.version,
    kind: ref.kind,
    metadata: {
      name: ref.name,
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
      ...(ref.uid ? { uid: ref.uid } : {}),
      ...(record.appliedGeneration > 0 ? { generation: record.appliedGeneration } : {}),
      ...(reported ? { resourceVersion: reported.resourceVersion } : {}),
      labels: { [COPY_CLUSTER_LABEL]: record.cluster },
      annotations,
    },
    ...(facts.replicas !== undefined ? { spec: { replicas: facts.replicas } } : {}),
    ...(reported ? { status: reported.status } : {}),
  };
}

const annotation = (o: KubeObject, key: string): string | undefined => o.metadata.annotations?.[key];

/**
 * The view's own table columns: CLUSTER after NAME; SYNC (sync-apply's state) and REPORTED (how old the cluster's
 * last status report is, `<none>` before the first) after the kind's columns. Left out are the kind's AGE (a copy's
 * creation time is not recorded) and the pod template's columns (tmc keeps no object content).
 */
export const COPY_COLUMNS = {
  afterName: [{ name: 'Cluster', type: 'string', cell: (o) => o.metadata.labels?.[COPY_CLUSTER_LABEL] ?? null }],
  trailing: [
    { name: 'Sync', type: 'string', cell: (o) => annotation(o, SYNC_STATE_ANNOTATION) ?? null },
    {
      name: 'Reported',
      type: 'string',
      cell: (o) => {
        const at = annotation(o, STATUS_REPORTED_ANNOTATION);
        return at === undefined ? '<none>' : age(at);
      },
    },
    { name: 'Error', type: 'string', priority: 1, cell: (o) => annotation(o, SYNC_ERROR_ANNOTATION) ?? '<none>' },
  ],
  without: ['Age', 'Containers', 'Images', 'Selector'],
} satisfies { afterName: TableColumn[]; trailing: TableColumn[]; without: string[] };
