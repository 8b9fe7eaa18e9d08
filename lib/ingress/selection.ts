import { IGNORE_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/labels';
import type { KubeObjectShape } from '../api/messages';

export interface GroupResource {
  group: string;
  resource: string;
}

/** tmc's own kinds: validated at admission and routed to placement as cluster or placement changes. */
export const TMC_KINDS: Record<string, 'cluster-change' | 'placement-change'> = {
  'workload.kcp.io/synctargets': 'cluster-change',
  'scheduling.kcp.io/locations': 'placement-change',
  'scheduling.kcp.io/placements': 'placement-change',
};

export function tmcKindReason(gr: GroupResource): 'cluster-change' | 'placement-change' | undefined {
  return TMC_KINDS[`${gr.group}/${gr.resource}`];
}

/**
 * Never synced: per-cluster runtime objects that each cluster makes for itself (pods, replicasets of deployments,
 * endpoints, events, leases, a CSI driver's storage capacities), review APIs and Bindings that are requests rather
 * than objects, and tmc's own kinds.
 */
const EXCLUDED_RESOURCES = new Set([
  '/events',
  'events.k8s.io/events',
  'coordination.k8s.io/leases',
  '/endpoints',
  'discovery.k8s.io/endpointslices',
  '/pods',
  'apps/controllerrevisions',
  'storage.k8s.io/csistoragecapacities',
  '/bindings',
  'authentication.k8s.io/tokenreviews',
  'authorization.k8s.io/subjectaccessreviews',
  'authorization.k8s.io/localsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authentication.k8s.io/selfsubjectreviews',
  ...Object.keys(TMC_KINDS),
]);

export const EXCLUDED_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease', 'tmc-system'];

export type Selection = { selected: true } | { selected: false; reason: string };

/**
 * Cluster-scoped kinds that are never synced: admission policies and flow control (machinery that can affect every
 * tenant of a cluster and has no namespace of the workspace to point at), nodes and other per-cluster runtime, and
 * kcp's own groups. Any other cluster-scoped kind (CRDs, ClusterRoles and bindings, StorageClasses, IngressClasses,
 * PersistentVolumes, cluster-scoped custom resources, and, gated by the SyncTarget's allowedRiskyKinds, webhook
 * configurations and APIServices) goes to placement, which sends it where the workspace's work runs
 * (docs/placement.md).
 */
const EXCLUDED_CLUSTER_RESOURCES = new Set([
  'admissionregistration.k8s.io/validatingadmissionpolicies',
  'admissionregistration.k8s.io/validatingadmissionpolicybindings',
  'admissionregistration.k8s.io/mutatingadmissionpolicies',
  'admissionregistration.k8s.io/mutatingadmissionpolicybindings',
  'certificates.k8s.io/certificatesigningrequests',
  'flowcontrol.apiserver.k8s.io/flowschemas',
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations',
  '/nodes',
  '/componentstatuses',
  // A cluster's own nodes' CSI drivers and volume attachments, made by its kubelets and controllers.
  'storage.k8s.io/csinodes',
  'storage.k8s.io/volumeattachments',
]);

const CRD_RESOURCE = 'apiextensions.k8s.io/customresourcedefinitions';

/** Whether tmc never syncs any object of this kind, whatever its name, namespace or labels. */
export function neverSyncedKind(gr: GroupResource): boolean {
  const key = `${gr.group}/${gr.resource}`;
  return EXCLUDED_RESOURCES.has(key) || EXCLUDED_CLUSTER_RESOURCES.has(key) || gr.group.endsWith('kcp.io');
}

/** Whether a kcp object is a workload tmc places and syncs. */
export function selectWorkload(
  gr: GroupResource,
  namespace: string | undefined,
  object: KubeObjectShape | undefined,
): Selection {
  if (!namespace) {
    const key = `${gr.group}/${gr.resource}`;
    if (neverSyncedKind(gr)) return { selected: false, reason: 'cluster-scoped' };
    // The CRDs of kcp's and tmc's own kinds (`<plural>.<group>`) describe the control plane, not an application.
    if (key === CRD_RESOURCE && (object?.metadata?.name ?? '').endsWith('kcp.io'))
      return { selected: false, reason: 'cluster-scoped' };
    // tmc's own webhook configurations in the workspace (`tmc webhooks install`) call tmc: never a workload.
    if (gr.group === 'admissionregistration.k8s.io' && isTmcManaged(object))
      return { selected: false, reason: 'cluster-scoped' };
    const labels = object?.metadata?.labels;
    if (typeof labels === 'object' && labels !== null && IGNORE_LABEL in labels)
      return { selected: false, reason: 'ignored' };
    return { selected: true };
  }
  if (EXCLUDED_NAMESPACES.includes(namespace)) return { selected: false, reason: 'system-namespace' };
  if (EXCLUDED_RESOURCES.has(`${gr.group}/${gr.resource}`)) return { selected: false, reason: 'excluded-resource' };
  const metadata = object?.metadata;
  const labels = metadata?.labels;
  if (typeof labels === 'object' && labels !== null && IGNORE_LABEL in labels)
    return { selected: false, reason: 'ignored' };
  if (gr.group === 'apps' && gr.resource === 'replicasets' && ownedByKind(metadata?.ownerReferences, 'Deployment')) {
    return { selected: false, reason: 'owned-by-deployment' };
  }
  return { selected: true };
}

function ownedByKind(ownerReferences: unknown, kind: string): boolean {
  return (
    Array.isArray(ownerReferences) &&
    ownerReferences.some((o) => typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind === kind)
  );
}

function isTmcManaged(object: KubeObjectShape | undefined): boolean {
  const labels = object?.metadata?.labels;
  return (
    typeof labels === 'object' &&
    labels !== null &&
    (labels as Record<string, unknown>)[MANAGED_BY_LABEL] === MANAGED_BY_VALUE
  );
}
