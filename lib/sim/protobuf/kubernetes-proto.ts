/**
 * The subset of Kubernetes' generated.proto files (k8s.io/api, k8s.io/apimachinery) that the simulator decodes:
 * the kinds kubectl's typed commands (`kubectl create namespace|configmap|secret|deployment|job|…`, `kubectl run`,
 * `kubectl expose`) send as `application/vnd.kubernetes.protobuf`.
 *
 * Field numbers are copied from the upstream generated.proto files, never guessed; field names are the upstream proto
 * names, which equal the JSON tags. Fields left out (status messages, exotic volume sources, ephemeral containers…)
 * are skipped by the decoder as unknown fields, as any proto2 reader does. Message names may differ from upstream
 * where upstream renamed a type without changing its wire form (`Handler` is today's ProbeHandler/LifecycleHandler).
 */
export const KUBERNETES_PROTO_FILES: readonly string[] = [
  `syntax = "proto2";
package k8s.io.apimachinery.pkg.runtime;
message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }
message Unknown { optional TypeMeta typeMeta = 1; optional bytes raw = 2; optional string contentEncoding = 3; optional string contentType = 4; }
`,
  `syntax = "proto2";
package k8s.io.apimachinery.pkg.util.intstr;
message IntOrString { optional int64 type = 1; optional int32 intVal = 2; optional string strVal = 3; }
`,
  `syntax = "proto2";
package k8s.io.apimachinery.pkg.api.resource;
message Quantity { optional string string = 1; }
`,
  `syntax = "proto2";
package k8s.io.apimachinery.pkg.apis.meta.v1;
message Time { optional int64 seconds = 1; optional int32 nanos = 2; }
message LabelSelector { map<string, string> matchLabels = 1; repeated LabelSelectorRequirement matchExpressions = 2; }
message LabelSelectorRequirement { optional string key = 1; optional string operator = 2; repeated string values = 3; }
message OwnerReference { optional string apiVersion = 5; optional string kind = 1; optional string name = 3; optional string uid = 4; optional bool controller = 6; optional bool blockOwnerDeletion = 7; }
message ObjectMeta {
  optional string name = 1; optional string generateName = 2; optional string namespace = 3; optional string selfLink = 4;
  optional string uid = 5; optional string resourceVersion = 6; optional int64 generation = 7; optional Time creationTimestamp = 8;
  optional Time deletionTimestamp = 9; optional int64 deletionGracePeriodSeconds = 10; map<string, string> labels = 11;
  map<string, string> annotations = 12; repeated OwnerReference ownerReferences = 13; repeated string finalizers = 14;
}
`,
  `syntax = "proto2";
package k8s.io.api.core.v1;
message Namespace { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional NamespaceSpec spec = 2; }
message NamespaceSpec { repeated string finalizers = 1; }
message ConfigMap { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional bool immutable = 4; map<string, string> data = 2; map<string, bytes> binaryData = 3; }
message Secret { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional bool immutable = 5; map<string, bytes> data = 2; map<string, string> stringData = 4; optional string type = 3; }
message ServiceAccount { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; repeated ObjectReference secrets = 2; repeated LocalObjectReference imagePullSecrets = 3; optional bool automountServiceAccountToken = 4; }
message ObjectReference { optional string kind = 1; optional string namespace = 2; optional string name = 3; optional string uid = 4; optional string apiVersion = 5; optional string resourceVersion = 6; optional string fieldPath = 7; }
message LocalObjectReference { optional string name = 1; }
message TypedLocalObjectReference { optional string apiGroup = 1; optional string kind = 2; optional string name = 3; }
message Service { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional ServiceSpec spec = 2; }
message ServiceSpec {
  repeated ServicePort ports = 1; map<string, string> selector = 2; optional string clusterIP = 3; repeated string clusterIPs = 18;
  optional string type = 4; repeated string externalIPs = 5; optional string sessionAffinity = 7; optional string loadBalancerIP = 8;
  repeated string loadBalancerSourceRanges = 9; optional string externalName = 10; optional string externalTrafficPolicy = 11;
  optional int32 healthCheckNodePort = 12; optional bool publishNotReadyAddresses = 13; optional SessionAffinityConfig sessionAffinityConfig = 14;
  repeated string ipFamilies = 19; optional string ipFamilyPolicy = 17; optional bool allocateLoadBalancerNodePorts = 20;
  optional string loadBalancerClass = 21; optional string internalTrafficPolicy = 22;
}
message ServicePort { optional string name = 1; optional string protocol = 2; optional string appProtocol = 6; optional int32 port = 3; optional .k8s.io.apimachinery.pkg.util.intstr.IntOrString targetPort = 4; optional int32 nodePort = 5; }
message SessionAffinityConfig { optional ClientIPConfig clientIP = 1; }
message ClientIPConfig { optional int32 timeoutSeconds = 1; }
message Pod { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional PodSpec spec = 2; }
message PodTemplateSpec { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional PodSpec spec = 2; }
message PodSpec {
  repeated Volume volumes = 1; repeated Container initContainers = 20; repeated Container containers = 2; optional string restartPolicy = 3;
  optional int64 terminationGracePeriodSeconds = 4; optional int64 activeDeadlineSeconds = 5; optional string dnsPolicy = 6;
  map<string, string> nodeSelector = 7; optional string serviceAccountName = 8; optional string serviceAccount = 9;
  optional bool automountServiceAccountToken = 21; optional string nodeName = 10; optional bool hostNetwork = 11; optional bool hostPID = 12;
  optional bool hostIPC = 13; optional bool shareProcessNamespace = 27; optional PodSecurityContext securityContext = 14;
  repeated LocalObjectReference imagePullSecrets = 15; optional string hostname = 16; optional string subdomain = 17;
  optional Affinity affinity = 18; optional string schedulerName = 19; repeated Toleration tolerations = 22; repeated HostAlias hostAliases = 23;
  optional string priorityClassName = 24; optional int32 priority = 25; optional PodDNSConfig dnsConfig = 26; repeated PodReadinessGate readinessGates = 28;
  optional string runtimeClassName = 29; optional bool enableServiceLinks = 30; optional string preemptionPolicy = 31;
  map<string, .k8s.io.apimachinery.pkg.api.resource.Quantity> overhead = 32; repeated TopologySpreadConstraint topologySpreadConstraints = 33;
  optional bool setHostnameAsFQDN = 35;
}
message Container {
  optional string name = 1; optional string image = 2; repeated string command = 3; repeated string args = 4; optional string workingDir = 5;
  repeated ContainerPort ports = 6; repeated EnvFromSource envFrom = 19; repeated EnvVar env = 7; optional ResourceRequirements resources = 8;
  repeated VolumeMount volumeMounts = 9; repeated VolumeDevice volumeDevices = 21; optional Probe livenessProbe = 10; optional Probe readinessProbe = 11;
  optional Probe startupProbe = 22; optional Lifecycle lifecycle = 12; optional string terminationMessagePath = 13; optional string terminationMessagePolicy = 20;
  optional string imagePullPolicy = 14; optional SecurityContext securityContext = 15; optional bool stdin = 16; optional bool stdinOnce = 17; optional bool tty = 18;
}
message ContainerPort { optional string name = 1; optional int32 hostPort = 2; optional int32 containerPort = 3; optional string protocol = 4; optional string hostIP = 5; }
message EnvVar { optional string name = 1; optional string value = 2; optional EnvVarSource valueFrom = 3; }
message EnvVarSource { optional ObjectFieldSelector fieldRef = 1; optional ResourceFieldSelector resourceFieldRef = 2; optional ConfigMapKeySelector configMapKeyRef = 3; optional SecretKeySelector secretKeyRef = 4; }
message ObjectFieldSelector { optional string apiVersion = 1; optional string fieldPath = 2; }
message ResourceFieldSelector { optional string containerName = 1; optional string resource = 2; optional .k8s.io.apimachinery.pkg.api.resource.Quantity divisor = 3; }
message ConfigMapKeySelector { optional LocalObjectReference localObjectReference = 1; optional string key = 2; optional bool optional = 3; }
message SecretKeySelector { optional LocalObjectReference localObjectReference = 1; optional string key = 2; optional bool optional = 3; }
message EnvFromSource { optional string prefix = 1; optional ConfigMapEnvSource configMapRef = 2; optional SecretEnvSource secretRef = 3; }
message ConfigMapEnvSource { optional LocalObjectReference localObjectReference = 1; optional bool optional = 2; }
message SecretEnvSource { optional LocalObjectReference localObjectReference = 1; optional bool optional = 2; }
message ResourceRequirements { map<string, .k8s.io.apimachinery.pkg.api.resource.Quantity> limits = 1; map<string, .k8s.io.apimachinery.pkg.api.resource.Quantity> requests = 2; }
message VolumeMount { optional string name = 1; optional bool readOnly = 2; optional string mountPath = 3; optional string subPath = 4; optional string mountPropagation = 5; optional string subPathExpr = 6; }
message VolumeDevice { optional string name = 1; optional string devicePath = 2; }
message Probe { optional Handler handler = 1; optional int32 initialDelaySeconds = 2; optional int32 timeoutSeconds = 3; optional int32 periodSeconds = 4; optional int32 successThreshold = 5; optional int32 failureThreshold = 6; optional int64 terminationGracePeriodSeconds = 7; }
message Handler { optional ExecAction exec = 1; optional HTTPGetAction httpGet = 2; optional TCPSocketAction tcpSocket = 3; }
message Lifecycle { optional Handler postStart = 1; optional Handler preStop = 2; }
message ExecAction { repeated string command = 1; }
message HTTPGetAction { optional string path = 1; optional .k8s.io.apimachinery.pkg.util.intstr.IntOrString port = 2; optional string host = 3; optional string scheme = 4; repeated HTTPHeader httpHeaders = 5; }
message HTTPHeader { optional string name = 1; optional string value = 2; }
message TCPSocketAction { optional .k8s.io.apimachinery.pkg.util.intstr.IntOrString port = 1; optional string host = 2; }
message SecurityContext {
  optional Capabilities capabilities = 1; optional bool privileged = 2; optional SELinuxOptions seLinuxOptions = 3; optional WindowsSecurityContextOptions windowsOptions = 10;
  optional int64 runAsUser = 4; optional int64 runAsGroup = 8; optional bool runAsNonRoot = 5; optional bool readOnlyRootFilesystem = 6;
  optional bool allowPrivilegeEscalation = 7; optional string procMount = 9; optional SeccompProfile seccompProfile = 11;
}
message PodSecurityContext {
  optional SELinuxOptions seLinuxOptions = 1; optional WindowsSecurityContextOptions windowsOptions = 8; optional int64 runAsUser = 2; optional int64 runAsGroup = 6;
  optional bool runAsNonRoot = 3; repeated int64 supplementalGroups = 4; optional int64 fsGroup = 5; repeated Sysctl sysctls = 7;
  optional string fsGroupChangePolicy = 9; optional SeccompProfile seccompProfile = 10;
}
message Capabilities { repeated string add = 1; repeated string drop = 2; }
message SELinuxOptions { optional string user = 1; optional string role = 2; optional string type = 3; optional string level = 4; }
message WindowsSecurityContextOptions { optional string gmsaCredentialSpecName = 1; optional string gmsaCredentialSpec = 2; optional string runAsUserName = 3; }
message SeccompProfile { optional string type = 1; optional string localhostProfile = 2; }
message Sysctl { optional string name = 1; optional string value = 2; }
message Toleration { optional string key = 1; optional string operator = 2; optional string value = 3; optional string effect = 4; optional int64 tolerationSeconds = 5; }
message HostAlias { optional string ip = 1; repeated string hostnames = 2; }
message PodDNSConfig { repeated string nameservers = 1; repeated string searches = 2; repeated PodDNSConfigOption options = 3; }
message PodDNSConfigOption { optional string name = 1; optional string value = 2; }
message PodReadinessGate { optional string conditionType = 1; }
message TopologySpreadConstraint { optional int32 maxSkew = 1; optional string topologyKey = 2; optional string whenUnsatisfiable = 3; optional .k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector labelSelector = 4; }
message Affinity { optional NodeAffinity nodeAffinity = 1; optional PodAffinity podAffinity = 2; optional PodAntiAffinity podAntiAffinity = 3; }
message NodeAffinity { optional NodeSelector requiredDuringSchedulingIgnoredDuringExecution = 1; repeated PreferredSchedulingTerm preferredDuringSchedulingIgnoredDuringExecution = 2; }
message NodeSelector { repeated NodeSelectorTerm nodeSelectorTerms = 1; }
message NodeSelectorTerm { repeated NodeSelectorRequirement matchExpressions = 1; repeated NodeSelectorRequirement matchFields = 2; }
message NodeSelectorRequirement { optional string key = 1; optional string operator = 2; repeated string values = 3; }
message PreferredSchedulingTerm { optional int32 weight = 1; optional NodeSelectorTerm preference = 2; }
message PodAffinity { repeated PodAffinityTerm requiredDuringSchedulingIgnoredDuringExecution = 1; repeated WeightedPodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution = 2; }
message PodAntiAffinity { repeated PodAffinityTerm requiredDuringSchedulingIgnoredDuringExecution = 1; repeated WeightedPodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution = 2; }
message PodAffinityTerm { optional .k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector labelSelector = 1; repeated string namespaces = 2; optional string topologyKey = 3; optional .k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector namespaceSelector = 4; }
message WeightedPodAffinityTerm { optional int32 weight = 1; optional PodAffinityTerm podAffinityTerm = 2; }
message Volume { optional string name = 1; optional VolumeSource volumeSource = 2; }
message VolumeSource {
  optional HostPathVolumeSource hostPath = 1; optional EmptyDirVolumeSource emptyDir = 2; optional SecretVolumeSource secret = 6; optional NFSVolumeSource nfs = 7;
  optional PersistentVolumeClaimVolumeSource persistentVolumeClaim = 10; optional DownwardAPIVolumeSource downwardAPI = 16;
  optional ConfigMapVolumeSource configMap = 19; optional ProjectedVolumeSource projected = 26; optional CSIVolumeSource csi = 28;
}
message HostPathVolumeSource { optional string path = 1; optional string type = 2; }
message EmptyDirVolumeSource { optional string medium = 1; optional .k8s.io.apimachinery.pkg.api.resource.Quantity sizeLimit = 2; }
message SecretVolumeSource { optional string secretName = 1; repeated KeyToPath items = 2; optional int32 defaultMode = 3; optional bool optional = 4; }
message NFSVolumeSource { optional string server = 1; optional string path = 2; optional bool readOnly = 3; }
message PersistentVolumeClaimVolumeSource { optional string claimName = 1; optional bool readOnly = 2; }
message DownwardAPIVolumeSource { repeated DownwardAPIVolumeFile items = 1; optional int32 defaultMode = 2; }
message DownwardAPIVolumeFile { optional string path = 1; optional ObjectFieldSelector fieldRef = 2; optional ResourceFieldSelector resourceFieldRef = 3; optional int32 mode = 4; }
message DownwardAPIProjection { repeated DownwardAPIVolumeFile items = 1; }
message ConfigMapVolumeSource { optional LocalObjectReference localObjectReference = 1; repeated KeyToPath items = 2; optional int32 defaultMode = 3; optional bool optional = 4; }
message ProjectedVolumeSource { repeated VolumeProjection sources = 1; optional int32 defaultMode = 2; }
message VolumeProjection { optional SecretProjection secret = 1; optional DownwardAPIProjection downwardAPI = 2; optional ConfigMapProjection configMap = 3; optional ServiceAccountTokenProjection serviceAccountToken = 4; }
message SecretProjection { optional LocalObjectReference localObjectReference = 1; repeated KeyToPath items = 2; optional bool optional = 4; }
message ConfigMapProjection { optional LocalObjectReference localObjectReference = 1; repeated KeyToPath items = 2; optional bool optional = 4; }
message ServiceAccountTokenProjection { optional string audience = 1; optional int64 expirationSeconds = 2; optional string path = 3; }
message CSIVolumeSource { optional string driver = 1; optional bool readOnly = 2; optional string fsType = 3; map<string, string> volumeAttributes = 4; optional LocalObjectReference nodePublishSecretRef = 5; }
message KeyToPath { optional string key = 1; optional string path = 2; optional int32 mode = 3; }
`,
  `syntax = "proto2";
package k8s.io.api.apps.v1;
message Deployment { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional DeploymentSpec spec = 2; }
message DeploymentSpec {
  optional int32 replicas = 1; optional .k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector selector = 2; optional .k8s.io.api.core.v1.PodTemplateSpec template = 3;
  optional DeploymentStrategy strategy = 4; optional int32 minReadySeconds = 5; optional int32 revisionHistoryLimit = 6; optional bool paused = 7;
  optional int32 progressDeadlineSeconds = 9; optional string podReplacementPolicy = 10;
}
message DeploymentStrategy { optional string type = 1; optional RollingUpdateDeployment rollingUpdate = 2; }
message RollingUpdateDeployment { optional .k8s.io.apimachinery.pkg.util.intstr.IntOrString maxUnavailable = 1; optional .k8s.io.apimachinery.pkg.util.intstr.IntOrString maxSurge = 2; }
`,
  `syntax = "proto2";
package k8s.io.api.batch.v1;
message Job { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional JobSpec spec = 2; }
message JobSpec {
  optional int32 parallelism = 1; optional int32 completions = 2; optional int64 activeDeadlineSeconds = 3; optional int32 backoffLimit = 7;
  optional int32 backoffLimitPerIndex = 12; optional int32 maxFailedIndexes = 13; optional .k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector selector = 4;
  optional bool manualSelector = 5; optional .k8s.io.api.core.v1.PodTemplateSpec template = 6; optional int32 ttlSecondsAfterFinished = 8;
  optional string completionMode = 9; optional bool suspend = 10; optional string podReplacementPolicy = 14; optional string managedBy = 15;
}
message JobTemplateSpec { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional JobSpec spec = 2; }
message CronJob { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional CronJobSpec spec = 2; }
message CronJobSpec {
  optional string schedule = 1; optional string timeZone = 8; optional int64 startingDeadlineSeconds = 2; optional string concurrencyPolicy = 3;
  optional bool suspend = 4; optional JobTemplateSpec jobTemplate = 5; optional int32 successfulJobsHistoryLimit = 6; optional int32 failedJobsHistoryLimit = 7;
}
`,
  `syntax = "proto2";
package k8s.io.api.rbac.v1;
message Role { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; repeated PolicyRule rules = 2; }
message ClusterRole { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; repeated PolicyRule rules = 2; optional AggregationRule aggregationRule = 3; }
message RoleBinding { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; repeated Subject subjects = 2; optional RoleRef roleRef = 3; }
message ClusterRoleBinding { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; repeated Subject subjects = 2; optional RoleRef roleRef = 3; }
message PolicyRule { repeated string verbs = 1; repeated string apiGroups = 2; repeated string resources = 3; repeated string resourceNames = 4; repeated string nonResourceURLs = 5; }
message AggregationRule { repeated .k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector clusterRoleSelectors = 1; }
message RoleRef { optional string apiGroup = 1; optional string kind = 2; optional string name = 3; }
message Subject { optional string kind = 1; optional string apiGroup = 2; optional string name = 3; optional string namespace = 4; }
`,
  `syntax = "proto2";
package k8s.io.api.policy.v1;
message PodDisruptionBudget { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional PodDisruptionBudgetSpec spec = 2; }
message PodDisruptionBudgetSpec { optional .k8s.io.apimachinery.pkg.util.intstr.IntOrString minAvailable = 1; optional .k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector selector = 2; optional .k8s.io.apimachinery.pkg.util.intstr.IntOrString maxUnavailable = 3; }
`,
  `syntax = "proto2";
package k8s.io.api.networking.v1;
message Ingress { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional IngressSpec spec = 2; }
message IngressSpec { optional string ingressClassName = 4; optional IngressBackend defaultBackend = 1; repeated IngressTLS tls = 2; repeated IngressRule rules = 3; }
message IngressTLS { repeated string hosts = 1; optional string secretName = 2; }
message IngressRule { optional string host = 1; optional IngressRuleValue ingressRuleValue = 2; }
message IngressRuleValue { optional HTTPIngressRuleValue http = 1; }
message HTTPIngressRuleValue { repeated HTTPIngressPath paths = 1; }
message HTTPIngressPath { optional string path = 1; optional string pathType = 3; optional IngressBackend backend = 2; }
message IngressBackend { optional IngressServiceBackend service = 4; optional .k8s.io.api.core.v1.TypedLocalObjectReference resource = 3; }
message IngressServiceBackend { optional string name = 1; optional ServiceBackendPort port = 2; }
message ServiceBackendPort { optional string name = 1; optional int32 number = 2; }
`,
  // k8s.io/api/authorization/v1/generated.proto: what `kubectl auth can-i` sends (status is the server's to fill).
  `syntax = "proto2";
package k8s.io.api.authorization.v1;
message SelfSubjectAccessReview { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional SelfSubjectAccessReviewSpec spec = 2; }
message SelfSubjectAccessReviewSpec { optional ResourceAttributes resourceAttributes = 1; optional NonResourceAttributes nonResourceAttributes = 2; }
message ResourceAttributes { optional string namespace = 1; optional string verb = 2; optional string group = 3; optional string version = 4; optional string resource = 5; optional string subresource = 6; optional string name = 7; }
message NonResourceAttributes { optional string path = 1; optional string verb = 2; }
message SelfSubjectRulesReview { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; optional SelfSubjectRulesReviewSpec spec = 2; }
message SelfSubjectRulesReviewSpec { optional string namespace = 1; }
`,
  // k8s.io/api/authentication/v1/generated.proto: what `kubectl auth whoami` sends (an empty object: status = 2 is the
  // server's to fill).
  `syntax = "proto2";
package k8s.io.api.authentication.v1;
message SelfSubjectReview { optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1; }
`,
];

/** Proto package of each API group the decoder knows, keyed by apiVersion's group ('' is the core group). */
export const PROTO_PACKAGE_OF_GROUP: Readonly<Record<string, string>> = {
  '': 'k8s.io.api.core',
  apps: 'k8s.io.api.apps',
  batch: 'k8s.io.api.batch',
  'rbac.authorization.k8s.io': 'k8s.io.api.rbac',
  policy: 'k8s.io.api.policy',
  'networking.k8s.io': 'k8s.io.api.networking',
  'authorization.k8s.io': 'k8s.io.api.authorization',
  'authentication.k8s.io': 'k8s.io.api.authentication',
};

/** Top-level kinds a protobuf body may carry (a nested message such as PodSpec is not an API object). */
export const DECODABLE_KINDS: ReadonlySet<string> = new Set([
  'v1/Namespace',
  'v1/ConfigMap',
  'v1/Secret',
  'v1/ServiceAccount',
  'v1/Service',
  'v1/Pod',
  'apps/v1/Deployment',
  'batch/v1/Job',
  'batch/v1/CronJob',
  'rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
  'policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/Ingress',
  'authorization.k8s.io/v1/SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview',
  'authentication.k8s.io/v1/SelfSubjectReview',
]);

/**
 * Fields whose Go type is a pointer (or has no `omitempty`): the JSON form keeps them even at their zero value
 * (`replicas: 0`, `suspend: false`). gogo-protobuf writes a pointer field only when it is set, so presence on the wire
 * is exactly "set". Every other scalar is `omitempty` in Go and dropped at its zero value, as gogo writes those always.
 */
export const KEEP_ZERO_FIELDS: ReadonlySet<string> = new Set([
  'meta.v1.ObjectMeta.deletionGracePeriodSeconds',
  'meta.v1.OwnerReference.controller',
  'meta.v1.OwnerReference.blockOwnerDeletion',
  'core.v1.ConfigMap.immutable',
  'core.v1.Secret.immutable',
  'core.v1.ServiceAccount.automountServiceAccountToken',
  'core.v1.PodSpec.terminationGracePeriodSeconds',
  'core.v1.PodSpec.activeDeadlineSeconds',
  'core.v1.PodSpec.automountServiceAccountToken',
  'core.v1.PodSpec.shareProcessNamespace',
  'core.v1.PodSpec.priority',
  'core.v1.PodSpec.enableServiceLinks',
  'core.v1.PodSpec.preemptionPolicy',
  'core.v1.PodSpec.setHostnameAsFQDN',
  'core.v1.ContainerPort.containerPort',
  'core.v1.ServicePort.port',
  'core.v1.ServiceSpec.allocateLoadBalancerNodePorts',
  'core.v1.ServiceSpec.ipFamilyPolicy',
  'core.v1.ServiceSpec.loadBalancerClass',
  'core.v1.ServiceSpec.internalTrafficPolicy',
  'core.v1.ClientIPConfig.timeoutSeconds',
  'core.v1.SecurityContext.privileged',
  'core.v1.SecurityContext.runAsUser',
  'core.v1.SecurityContext.runAsGroup',
  'core.v1.SecurityContext.runAsNonRoot',
  'core.v1.SecurityContext.readOnlyRootFilesystem',
  'core.v1.SecurityContext.allowPrivilegeEscalation',
  'core.v1.SecurityContext.procMount',
  'core.v1.PodSecurityContext.runAsUser',
  'core.v1.PodSecurityContext.runAsGroup',
  'core.v1.PodSecurityContext.runAsNonRoot',
  'core.v1.PodSecurityContext.fsGroup',
  'core.v1.PodSecurityContext.fsGroupChangePolicy',
  'core.v1.ConfigMapKeySelector.optional',
  'core.v1.SecretKeySelector.optional',
  'core.v1.ConfigMapEnvSource.optional',
  'core.v1.SecretEnvSource.optional',
  'core.v1.SecretVolumeSource.defaultMode',
  'core.v1.SecretVolumeSource.optional',
  'core.v1.ConfigMapVolumeSource.defaultMode',
  'core.v1.ConfigMapVolumeSource.optional',
  'core.v1.ProjectedVolumeSource.defaultMode',
  'core.v1.DownwardAPIVolumeSource.defaultMode',
  'core.v1.DownwardAPIVolumeFile.mode',
  'core.v1.KeyToPath.mode',
  'core.v1.SecretProjection.optional',
  'core.v1.ConfigMapProjection.optional',
  'core.v1.ServiceAccountTokenProjection.expirationSeconds',
  'core.v1.HostPathVolumeSource.type',
  'core.v1.CSIVolumeSource.readOnly',
  'core.v1.Toleration.tolerationSeconds',
  'core.v1.Probe.terminationGracePeriodSeconds',
  'core.v1.PreferredSchedulingTerm.weight',
  'core.v1.WeightedPodAffinityTerm.weight',
  'core.v1.TopologySpreadConstraint.maxSkew',
  'apps.v1.DeploymentSpec.replicas',
  'apps.v1.DeploymentSpec.revisionHistoryLimit',
  'apps.v1.DeploymentSpec.progressDeadlineSeconds',
  'apps.v1.DeploymentSpec.podReplacementPolicy',
  'batch.v1.JobSpec.parallelism',
  'batch.v1.JobSpec.completions',
  'batch.v1.JobSpec.activeDeadlineSeconds',
  'batch.v1.JobSpec.backoffLimit',
  'batch.v1.JobSpec.backoffLimitPerIndex',
  'batch.v1.JobSpec.maxFailedIndexes',
  'batch.v1.JobSpec.manualSelector',
  'batch.v1.JobSpec.ttlSecondsAfterFinished',
  'batch.v1.JobSpec.completionMode',
  'batch.v1.JobSpec.suspend',
  'batch.v1.JobSpec.podReplacementPolicy',
  'batch.v1.JobSpec.managedBy',
  'batch.v1.CronJobSpec.timeZone',
  'batch.v1.CronJobSpec.startingDeadlineSeconds',
  'batch.v1.CronJobSpec.suspend',
  'batch.v1.CronJobSpec.successfulJobsHistoryLimit',
  'batch.v1.CronJobSpec.failedJobsHistoryLimit',
  'networking.v1.HTTPIngressPath.pathType',
  'networking.v1.IngressSpec.ingressClassName',
]);

/** Go structs embedded with `json:",inline"`: their fields belong to the parent object in JSON. */
export const INLINE_FIELDS: ReadonlySet<string> = new Set([
  'localObjectReference',
  'volumeSource',
  'handler',
  'ingressRuleValue',
]);
