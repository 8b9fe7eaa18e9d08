import type { ResourceInfo } from './resource-info';

function r(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceInfo> = {},
): ResourceInfo {
  return {
    group,
    version,
    resource,
    kind,
    singular: kind.toLowerCase(),
    namespaced,
    hasStatus: false,
    hasScale: false,
    ...extra,
  };
}

const CREATE_ONLY: readonly string[] = ['create'];

/** The built-in kinds a Kubernetes API server serves: the simulator serves them in every object space. */
export const BUILTIN_RESOURCES: ResourceInfo[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, { hasStatus: true, shortNames: ['ns'] }),
  r('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  r('', 'v1', 'secrets', 'Secret', true),
  r('', 'v1', 'services', 'Service', true, { categories: ['all'], hasStatus: true, shortNames: ['svc'] }),
  r('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  r('', 'v1', 'pods', 'Pod', true, {
    categories: ['all'],
    hasStatus: true,
    shortNames: ['po'],
    subresources: [{ name: 'binding', kind: 'Binding', verbs: CREATE_ONLY }],
  }),
  // Answered, never stored (lib/sim/pod-binding.ts): a scheduler's assignment of a Pod to a Node.
  r('', 'v1', 'bindings', 'Binding', true, { verbs: CREATE_ONLY }),
  r('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  r('', 'v1', 'endpoints', 'Endpoints', true, { shortNames: ['ep'] }),
  r('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, { hasStatus: true, shortNames: ['pvc'] }),
  r('', 'v1', 'nodes', 'Node', false, { hasStatus: true, shortNames: ['no'] }),
  r('', 'v1', 'persistentvolumes', 'PersistentVolume', false, { hasStatus: true, shortNames: ['pv'] }),
  r('apps', 'v1', 'deployments', 'Deployment', true, {
    categories: ['all'],
    hasStatus: true,
    hasScale: true,
    shortNames: ['deploy'],
  }),
  r('apps', 'v1', 'replicasets', 'ReplicaSet', true, {
    categories: ['all'],
    hasStatus: true,
    hasScale: true,
    shortNames: ['rs'],
  }),
  r('apps', 'v1', 'statefulsets', 'StatefulSet', true, {
    categories: ['all'],
    hasStatus: true,
    hasScale: true,
    shortNames: ['sts'],
  }),
  r('apps', 'v1', 'daemonsets', 'DaemonSet', true, { categories: ['all'], hasStatus: true, shortNames: ['ds'] }),
  r('apps', 'v1', 'controllerrevisions', 'ControllerRevision', true),
  r('batch', 'v1', 'jobs', 'Job', true, { categories: ['all'], hasStatus: true }),
  r('batch', 'v1', 'cronjobs', 'CronJob', true, { categories: ['all'], hasStatus: true, shortNames: ['cj'] }),
  r('networking.k8s.io', 'v1', 'ingresses', 'Ingress', true, { hasStatus: true, shortNames: ['ing'] }),
  r('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, { shortNames: ['netpol'] }),
  r('networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', false),
  r('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false, { shortNames: ['sc'] }),
  r('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  r('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  r('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  r('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, {
    categories: ['all'],
    hasStatus: true,
    shortNames: ['hpa'],
  }),
  r('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, { hasStatus: true, shortNames: ['pdb'] }),
  r('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  r('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false),
  r('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false),
  r('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, {
    hasStatus: true,
    shortNames: ['crd', 'crds'],
  }),
  r('', 'v1', 'replicationcontrollers', 'ReplicationController', true, {
    categories: ['all'],
    hasStatus: true,
    hasScale: true,
    shortNames: ['rc'],
  }),
  r('', 'v1', 'limitranges', 'LimitRange', true, { shortNames: ['limits'] }),
  r('', 'v1', 'resourcequotas', 'ResourceQuota', true, { hasStatus: true, shortNames: ['quota'] }),
  r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  r('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false, { shortNames: ['pc'] }),
  r('node.k8s.io', 'v1', 'runtimeclasses', 'RuntimeClass', false),
  r('storage.k8s.io', 'v1', 'csidrivers', 'CSIDriver', false),
  // Beside core/v1 Events, as kube-apiserver serves them; here a store of its own (not a view of core/v1's).
  r('events.k8s.io', 'v1', 'events', 'Event', true),
  r('storage.k8s.io', 'v1', 'csinodes', 'CSINode', false),
  r('storage.k8s.io', 'v1', 'csistoragecapacities', 'CSIStorageCapacity', true),
  r('storage.k8s.io', 'v1', 'volumeattachments', 'VolumeAttachment', false, { hasStatus: true }),
  r('', 'v1', 'podtemplates', 'PodTemplate', true),
  r('', 'v1', 'componentstatuses', 'ComponentStatus', false, { shortNames: ['cs'] }),
  r('admissionregistration.k8s.io', 'v1', 'validatingadmissionpolicies', 'ValidatingAdmissionPolicy', false, {
    hasStatus: true,
  }),
  r(
    'admissionregistration.k8s.io',
    'v1',
    'validatingadmissionpolicybindings',
    'ValidatingAdmissionPolicyBinding',
    false,
  ),
  r('apiregistration.k8s.io', 'v1', 'apiservices', 'APIService', false, { hasStatus: true }),
  r('certificates.k8s.io', 'v1', 'certificatesigningrequests', 'CertificateSigningRequest', false, {
    hasStatus: true,
    shortNames: ['csr'],
  }),
  r('flowcontrol.apiserver.k8s.io', 'v1', 'flowschemas', 'FlowSchema', false, { hasStatus: true }),
  r('flowcontrol.apiserver.k8s.io', 'v1', 'prioritylevelconfigurations', 'PriorityLevelConfiguration', false, {
    hasStatus: true,
  }),
  // Answered, never stored (lib/sim/access-review.ts): `kubectl auth can-i`, `kubectl auth whoami`, a TokenReview.
  r('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, { verbs: CREATE_ONLY }),
  r('authorization.k8s.io', 'v1', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, { verbs: CREATE_ONLY }),
  r('authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', false, { verbs: CREATE_ONLY }),
  r('authorization.k8s.io', 'v1', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true, {
    verbs: CREATE_ONLY,
  }),
  r('authentication.k8s.io', 'v1', 'selfsubjectreviews', 'SelfSubjectReview', false, { verbs: CREATE_ONLY }),
  r('authentication.k8s.io', 'v1', 'tokenreviews', 'TokenReview', false, { verbs: CREATE_ONLY }),
];
