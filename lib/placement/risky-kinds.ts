import type { KubeObject } from '../ports/kube-client';

/**
 * Kinds whose copy on a cluster reaches beyond the workspace that applied it: they go only to SyncTargets that list
 * them in `spec.allowedRiskyKinds` (as `<Kind>.<group>`, or `*` for all). Everything else a workspace applies stays
 * within its own namespaces or is shared under tmc's ownership rules (lib/sync/shared-ownership.ts).
 */
const RISKY: Record<string, string> = {
  'MutatingWebhookConfiguration.admissionregistration.k8s.io': "intercepts every tenant's API requests on the cluster",
  'ValidatingWebhookConfiguration.admissionregistration.k8s.io':
    "intercepts every tenant's API requests on the cluster",
  'MutatingAdmissionPolicy.admissionregistration.k8s.io': "rewrites every tenant's API requests on the cluster",
  'MutatingAdmissionPolicyBinding.admissionregistration.k8s.io': "rewrites every tenant's API requests on the cluster",
  'ValidatingAdmissionPolicy.admissionregistration.k8s.io': "can reject every tenant's API requests on the cluster",
  'ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io':
    "can reject every tenant's API requests on the cluster",
  'PriorityClass.scheduling.k8s.io': "can preempt other tenants' pods",
  'APIService.apiregistration.k8s.io': 'serves an API group for the whole cluster',
  'FlowSchema.flowcontrol.apiserver.k8s.io': 'changes API fairness for every tenant',
  'PriorityLevelConfiguration.flowcontrol.apiserver.k8s.io': 'changes API fairness for every tenant',
  'ClusterRoleBinding.rbac.authorization.k8s.io': "binds cluster-admin (or a system: role) over every tenant's objects",
};

/** Roles a ClusterRoleBinding may grant only where the SyncTarget allows ClusterRoleBindings. */
function isPowerfulRole(name: unknown): boolean {
  return typeof name === 'string' && (name === 'cluster-admin' || name.startsWith('system:'));
}

/** The allow-list entry naming `object`'s kind and why it is risky; undefined for an ordinary object. */
export function riskyKindOf(
  object: Pick<KubeObject, 'apiVersion' | 'kind'> & { roleRef?: unknown },
): { entry: string; why: string } | undefined {
  const slash = object.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : object.apiVersion.slice(0, slash);
  const entry = group ? `${object.kind}.${group}` : object.kind;
  const why = RISKY[entry];
  if (why === undefined) return undefined;
  if (object.kind === 'ClusterRoleBinding') {
    const roleRef = object.roleRef;
    const name = typeof roleRef === 'object' && roleRef !== null && 'name' in roleRef ? roleRef.name : undefined;
    if (!isPowerfulRole(name)) return undefined;
  }
  return { entry, why };
}

/** Whether a SyncTarget's allow-list admits `entry` (kind names compare case-insensitively, as kubectl's do). */
export function allowsRiskyKind(allowed: readonly string[] | undefined, entry: string): boolean {
  const wanted = entry.toLowerCase();
  return (allowed ?? []).some((a) => a === '*' || a.toLowerCase() === wanted);
}
