import { allowsRiskyKind, riskyKindOf } from '../placement/risky-kinds';
import { selectWorkload } from '../ingress/selection';
import { BUILTIN_RESOURCES } from '../kube-api/resource-catalog';
import type { KubeObject } from '../kube/object';

/** One RBAC rule, as a ClusterRole holds it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * What the syncer does to a synced type on its cluster, and why: `get` (sync-object and delete read the current copy,
 * ensure-dependencies a CRD's Established), `create` and `patch` (server-side apply creates when missing; shared
 * ownership merge-patches), `delete`, `watch` (lib/syncer/status-watch.ts: list+watch of tmc's copies for status).
 * No `list`, `update` or `deletecollection`: nothing calls them.
 */
export const SYNCER_VERBS: readonly string[] = ['get', 'watch', 'create', 'patch', 'delete'];
/** Namespaces are made, read and removed, never watched (they carry no status tmc reports). */
const NAMESPACE_VERBS: readonly string[] = ['get', 'create', 'patch', 'delete'];
const RBAC_GROUP = 'rbac.authorization.k8s.io';
const REVIEW_GROUPS = new Set(['authorization.k8s.io', 'authentication.k8s.io']);
/** Writing a Role or binding that grants more than the writer holds needs these (kube-apiserver's escalation check). */
const RBAC_ESCALATION_VERBS: readonly string[] = ['escalate', 'bind'];

export interface SyncedResource {
  group: string;
  resource: string;
}

export interface SyncerRulesOptions {
  /** The SyncTarget's `spec.allowedRiskyKinds`: a risky kind (PriorityClass) is synced only where it is allowed. */
  allowedRiskyKinds?: readonly string[];
  /** Custom resources the SyncTarget will receive (`<resource>.<group>`), whose types tmc cannot know in advance. */
  extraResources?: readonly SyncedResource[];
  /** Roles and bindings too: they need `escalate` and `bind`, which let the syncer grant itself anything. */
  syncRbac?: boolean;
}

/**
 * The built-in types tmc syncs to a cluster, decided by the same rules ingress applies to kcp's objects
 * (lib/ingress/selection.ts `selectWorkload`, lib/placement/risky-kinds.ts), so the role follows what is synced.
 */
export function syncedBuiltinResources(options: SyncerRulesOptions = {}): SyncedResource[] {
  return BUILTIN_RESOURCES.filter((info) => {
    // Review APIs are requests, not objects: nothing of them is ever synced.
    if (REVIEW_GROUPS.has(info.group)) return false;
    const selected = selectWorkload(info, info.namespaced ? 'default' : undefined, undefined);
    if (!selected.selected) return false;
    if (info.group === RBAC_GROUP) return options.syncRbac === true;
    const risky = riskyKindOf({ apiVersion: `${info.group ? `${info.group}/` : ''}${info.version}`, kind: info.kind });
    return risky === undefined || allowsRiskyKind(options.allowedRiskyKinds, risky.entry);
  }).map((info) => ({ group: info.group, resource: info.resource }));
}

/** The least ClusterRole rules the syncer needs for what it syncs: one rule per API group, verbs as it calls them. */
export function syncerClusterRules(options: SyncerRulesOptions = {}): PolicyRule[] {
  const resources = [...syncedBuiltinResources(options), ...(options.extraResources ?? [])];
  const byGroup = new Map<string, Set<string>>();
  for (const r of resources) {
    if (r.group === '' && r.resource === 'namespaces') continue;
    const set = byGroup.get(r.group) ?? new Set<string>();
    set.add(r.resource);
    byGroup.set(r.group, set);
  }
  const rules: PolicyRule[] = [{ apiGroups: [''], resources: ['namespaces'], verbs: [...NAMESPACE_VERBS] }];
  for (const [group, set] of [...byGroup].sort(([a], [b]) => a.localeCompare(b)))
    rules.push({ apiGroups: [group], resources: [...set].sort(), verbs: [...SYNCER_VERBS] });
  if (options.syncRbac)
    rules.push({ apiGroups: [RBAC_GROUP], resources: ['roles', 'clusterroles'], verbs: [...RBAC_ESCALATION_VERBS] });
  return rules;
}

export interface SyncerManifestOptions extends SyncerRulesOptions {
  syncTargetName: string;
  syncTargetUid: string;
  /** The SyncTarget's workspace (`--workspace-cluster`). */
  workspace: string;
  /** The syncer's virtual-workspace kubeconfig (`tmc syncer kubeconfig`): the Secret's content. */
  vwKubeconfig: string;
  image: string;
  /** Where the syncer runs on the cluster. */
  namespace: string;
  healthPort: number;
  metricsPort: number;
  logLevel?: string;
}

/** The mount of the Secret: a directory mount (not subPath), so the kubelet refreshes the file when it is rotated. */
export const SYNCER_KUBECONFIG_DIR = '/etc/tmc-syncer';
const SYNCER_KUBECONFIG_KEY = 'kubeconfig';

/** What the operator's objects are named: one syncer per SyncTarget, so two SyncTargets may share a cluster. */
export function syncerObjectName(syncTargetName: string): string {
  return `tmc-syncer-${syncTargetName}`;
}

/**
 * Everything an operator applies to a physical cluster to run its pull-mode syncer: Namespace, ServiceAccount, the
 * least ClusterRole and its binding, a Secret with the virtual-workspace credentials, and the Deployment. The
 * Deployment uses the ServiceAccount's in-cluster credentials for the cluster (no `--cluster-kubeconfig`).
 */
export function syncerManifest(options: SyncerManifestOptions): KubeObject[] {
  const name = syncerObjectName(options.syncTargetName);
  const labels = {
    'app.kubernetes.io/name': 'tmc-syncer',
    'app.kubernetes.io/instance': name,
    'workload.kcp.io/sync-target': options.syncTargetName,
  };
  const meta = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, labels, ...extra });
  const namespaced = meta({ namespace: options.namespace });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: options.namespace, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: namespaced, automountServiceAccountToken: true },
    {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRole',
      metadata: meta(),
      rules: syncerClusterRules(options),
    },
    {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: meta(),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: options.namespace }],
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: namespaced,
      type: 'Opaque',
      data: { [SYNCER_KUBECONFIG_KEY]: Buffer.from(options.vwKubeconfig, 'utf8').toString('base64') },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: namespaced,
      spec: {
        replicas: 1,
        // Never two syncers of one SyncTarget at once: the old one stops before the new one starts.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              runAsGroup: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'syncer',
                image: options.image,
                args: [
                  `--sync-target-name=${options.syncTargetName}`,
                  `--sync-target-uid=${options.syncTargetUid}`,
                  `--workspace-cluster=${options.workspace}`,
                  `--kcp-kubeconfig=${SYNCER_KUBECONFIG_DIR}/${SYNCER_KUBECONFIG_KEY}`,
                  `--health-port=${options.healthPort}`,
                  `--metrics-port=${options.metricsPort}`,
                  `--log-level=${options.logLevel ?? 'info'}`,
                ],
                ports: [
                  { name: 'health', containerPort: options.healthPort },
                  { name: 'metrics', containerPort: options.metricsPort },
                ],
                livenessProbe: { httpGet: { path: '/healthz', port: 'health' }, periodSeconds: 20 },
                readinessProbe: { httpGet: { path: '/readyz', port: 'health' }, periodSeconds: 10 },
                resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'kcp-kubeconfig', mountPath: SYNCER_KUBECONFIG_DIR, readOnly: true }],
              },
            ],
            volumes: [{ name: 'kcp-kubeconfig', secret: { secretName: name } }],
          },
        },
      },
    },
  ];
}
