import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { PlacementSchema, type Placement } from '../../api/crds';
import type { ObjectRef } from '../../api/object-ref';
import { DynamoClusterInventory } from '../../adapters/dynamodb/cluster-inventory';
import { DynamoDecisionStore } from '../../adapters/dynamodb/decision-store';
import { KubeConnectorImpl } from '../../adapters/kube/kube-connector';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { formatExplanation } from '../../placement/explain-format';
import { makePolicySource } from '../../placement/policy-source';
import { whatIf, type Hypothesis } from '../../placement/what-if';
import type { StoredDecision } from '../../ports/decision-store';
import type { KubeObject } from '../../ports/kube-client';
import { memoryLog } from '../../observability/log';
import { CLUSTER_SCOPED, withDefaultNamespace } from './default-namespace';
import { openStateTable, withStateTableOptions, type StateTableOptions } from './state-table';

interface StateOptions extends StateTableOptions {
  workspace: string;
  kcpKubeconfig: string;
}

/** kubectl's short names for the kinds people place most; anything else is `<plural>.<group>/<name>`. */
const KNOWN: Record<string, { group: string; version: string; resource: string; kind: string }> = {
  deployment: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' },
  deploy: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' },
  statefulset: { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet' },
  sts: { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet' },
  daemonset: { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet' },
  ds: { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet' },
  configmap: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap' },
  cm: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap' },
  secret: { group: '', version: 'v1', resource: 'secrets', kind: 'Secret' },
  service: { group: '', version: 'v1', resource: 'services', kind: 'Service' },
  svc: { group: '', version: 'v1', resource: 'services', kind: 'Service' },
  job: { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job' },
  cronjob: { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob' },
  ingress: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', kind: 'Ingress' },
  // Namespaces have decisions of their own: their objects follow them (docs/placement.md).
  namespace: { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace' },
  ns: { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace' },
  // Cluster-scoped kinds follow the workspace's work (docs/placement.md).
  customresourcedefinition: {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
  },
  crd: {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
  },
  clusterrole: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole' },
  clusterrolebinding: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterrolebindings',
    kind: 'ClusterRoleBinding',
  },
  storageclass: { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', kind: 'StorageClass' },
  sc: { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', kind: 'StorageClass' },
  ingressclass: { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses', kind: 'IngressClass' },
  persistentvolume: { group: '', version: 'v1', resource: 'persistentvolumes', kind: 'PersistentVolume' },
  pv: { group: '', version: 'v1', resource: 'persistentvolumes', kind: 'PersistentVolume' },
  // Kinds placed only where a SyncTarget's spec.allowedRiskyKinds lets them (docs/placement.md).
  validatingwebhookconfiguration: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    resource: 'validatingwebhookconfigurations',
    kind: 'ValidatingWebhookConfiguration',
  },
  mutatingwebhookconfiguration: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    resource: 'mutatingwebhookconfigurations',
    kind: 'MutatingWebhookConfiguration',
  },
  priorityclass: { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', kind: 'PriorityClass' },
  apiservice: { group: 'apiregistration.k8s.io', version: 'v1', resource: 'apiservices', kind: 'APIService' },
};

/** `deployment/web`, `deployments.apps/web`, `widgets.example.com/w1` → an ObjectRef. */
export function parseObjectArg(arg: string, namespace: string | undefined, workspace: string): ObjectRef {
  const slash = arg.indexOf('/');
  if (slash <= 0 || slash === arg.length - 1) throw new Error(`expected <kind>/<name>, got ${arg}`);
  const type = arg.slice(0, slash).toLowerCase();
  const name = arg.slice(slash + 1);
  const singular = type.split('.')[0].replace(/s$/, '');
  const known = KNOWN[type] ?? KNOWN[singular];
  // A cluster-scoped kind (a Namespace too): `-n` (default `default`) does not apply to it.
  if (known && !type.includes('.'))
    return { workspace, ...known, namespace: CLUSTER_SCOPED.has(known.resource) ? undefined : namespace, name };
  const dot = type.indexOf('.');
  const resource = dot > 0 ? type.slice(0, dot) : type;
  const group = dot > 0 ? type.slice(dot + 1) : '';
  const match = Object.values(KNOWN).find((k) => k.resource === resource && k.group === group);
  return {
    workspace,
    group,
    version: match?.version ?? 'v1',
    resource,
    kind: match?.kind ?? resource,
    namespace,
    name,
  };
}

function stores(options: StateOptions): { decisions: DynamoDecisionStore; inventory: DynamoClusterInventory } {
  const { doc, table } = openStateTable(options);
  return { decisions: new DynamoDecisionStore(doc, table), inventory: new DynamoClusterInventory(doc, table) };
}

function withStateOptions(command: Command): Command {
  return withStateTableOptions(command)
    .option('-w, --workspace <path>', 'kcp workspace', DEFAULT_WORKSPACE)
    .option('--kcp-kubeconfig <path>', 'kubeconfig of kcp', process.env.TMC_KCP_KUBECONFIG ?? '.tmc/kcp.kubeconfig');
}

function readPlacements(file: string): Placement[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null)
    .map((d) => PlacementSchema.parse(d));
}

async function explain(arg: string, options: StateOptions & { namespace?: string; json?: boolean }): Promise<void> {
  const ref = withDefaultNamespace(
    parseObjectArg(arg, options.namespace, options.workspace),
    options.namespace,
    options.kcpKubeconfig,
  );
  const decision = await stores(options).decisions.get(ref);
  if (!decision) {
    process.stderr.write(
      `No placement decision is recorded for ${arg} in ${options.workspace}${ref.namespace ? ` namespace ${ref.namespace}` : ''}\n`,
    );
    process.exitCode = 1;
    return;
  }
  process.stdout.write(options.json ? `${JSON.stringify(decision, null, 2)}\n` : formatExplanation(decision));
}

async function whatIfCommand(
  options: StateOptions & { cordon: string[]; down: string[]; placement?: string; limit: string },
): Promise<void> {
  const { decisions, inventory } = stores(options);
  const kube = new KubeConnectorImpl({ kcp: { path: options.kcpKubeconfig } });
  const policies = makePolicySource(kube, memoryLog());
  const [{ placements, locations }, clusters, kcp] = await Promise.all([
    policies.load(options.workspace),
    inventory.list(options.workspace),
    kube.kcp(options.workspace),
  ]);
  const limit = Number(options.limit);
  const stored: StoredDecision[] = [];
  let cursor: string | undefined;
  do {
    const page = await decisions.listByWorkspace(options.workspace, { cursor, limit: 100 });
    stored.push(...page.decisions);
    cursor = page.cursor;
  } while (cursor && stored.length < limit);
  const inputs: Array<{ decision: StoredDecision; object: KubeObject; namespaceLabels?: Record<string, string> }> = [];
  for (const decision of stored.slice(0, limit)) {
    const r = decision.ref;
    const object = await kcp.get({
      group: r.group,
      version: r.version,
      resource: r.resource,
      namespace: r.namespace,
      name: r.name,
    });
    if (!object) continue;
    inputs.push({
      decision,
      object,
      namespaceLabels: r.namespace ? await policies.namespaceLabels(options.workspace, r.namespace) : undefined,
    });
  }
  const hypothesis: Hypothesis = {
    cordon: options.cordon,
    down: options.down,
    placements: options.placement ? readPlacements(options.placement) : [],
  };
  const moves = whatIf(inputs, placements, locations, clusters, hypothesis, Date.now());
  process.stdout.write(
    `${inputs.length} object(s) evaluated against ${clusters.length} cluster(s); ${moves.length} would change (nothing was written)\n`,
  );
  for (const m of moves) {
    process.stdout.write(
      `${m.object}: [${m.before.join(',')}] -> [${m.after.join(',')}]${m.scheduled ? '' : `  UNSCHEDULABLE: ${m.message}`}\n`,
    );
  }
}

const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value.split(',').filter(Boolean),
];

/** `tmc placement explain|what-if`; registered by lib/cli/commands/index.ts. */
export function registerPlacementCommand(program: Command): void {
  const group = program
    .command('placement')
    .description('Placement decisions: why an object runs where it does, and what a change would move');
  withStateOptions(
    group
      .command('explain <object>')
      .description(
        'Print the stored decision for <kind>/<name>: every cluster, its filter or scores, and the last change',
      ),
  )
    .option('-n, --namespace <ns>', "namespace of the object (default: the kubeconfig context's, then default)")
    .option('--json', 'print the stored decision as JSON')
    .action((object: string, options: StateOptions & { namespace?: string; json?: boolean }) =>
      explain(object, options),
    );
  withStateOptions(
    group
      .command('what-if')
      .description('Run the engine on the current inventory with a hypothetical change; writes nothing'),
  )
    .option('--cordon <clusters>', 'treat these clusters as cordoned (repeatable, comma-separated)', collect, [])
    .option('--down <clusters>', 'treat these clusters as Unhealthy past evictAfter (repeatable)', collect, [])
    .option('--placement <file>', "a Placement YAML that replaces (by name) or joins the workspace's")
    .option('--limit <n>', 'objects to evaluate at most', '1000')
    .action((options: StateOptions & { cordon: string[]; down: string[]; placement?: string; limit: string }) =>
      whatIfCommand(options),
    );
}
