import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { stringify } from 'yaml';
import { KubeConnectorImpl } from '../../adapters/kube/kube-connector';
import { LogicalClusterNameSchema } from '../../api/logical-cluster';
import {
  SYNC_TARGET_GROUP,
  SYNC_TARGET_RESOURCE,
  SYNC_TARGET_VERSION,
  SyncTargetSchema,
  syncModeOf,
} from '../../api/crds/sync-target';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { syncerManifest, type SyncedResource } from '../../syncer/manifest';
import { loadVwEndpoint } from '../../syncer/vw-client';
import { parsePort } from './options';
import { syncerKubeconfigPath } from './syncer-kubeconfig';

interface SyncerManifestCommandOptions {
  stateDir: string;
  workspace: string;
  kubeconfig: string;
  syncerKubeconfig?: string;
  image: string;
  namespace: string;
  resource: SyncedResource[];
  syncRbac?: boolean;
  healthPort: number;
  metricsPort: number;
  output?: string;
}

/** `widgets.example.com` → {group: example.com, resource: widgets}; `widgets` alone is the core group. */
function collectResource(value: string, previous: SyncedResource[] = []): SyncedResource[] {
  const dot = value.indexOf('.');
  const resource = dot < 0 ? value : value.slice(0, dot);
  if (!/^[a-z0-9-]+$/.test(resource))
    throw new InvalidArgumentError('must be <resource>.<group>, e.g. widgets.example.com');
  return [...previous, { resource, group: dot < 0 ? '' : value.slice(dot + 1) }];
}

/**
 * Prints (or writes, mode 0600: it holds credentials) what an operator applies to a pull-mode SyncTarget's cluster.
 * The SyncTarget is read from kcp (its uid for `--sync-target-uid`, its `allowedRiskyKinds` for the role), the
 * credentials from the syncer kubeconfig `tmc syncer kubeconfig` prints.
 */
async function manifestAction(name: string, options: SyncerManifestCommandOptions): Promise<void> {
  const workspace = LogicalClusterNameSchema.safeParse(options.workspace);
  if (!workspace.success)
    throw new Error(`--workspace ${options.workspace} is not a workspace path (e.g. root:default)`);
  const credentials = options.syncerKubeconfig ?? syncerKubeconfigPath(options.stateDir, name);
  // Checked to be a usable syncer kubeconfig before it goes into the Secret; its token is never printed elsewhere.
  await loadVwEndpoint(credentials);
  const connector = new KubeConnectorImpl({ kcp: { path: options.kubeconfig } });
  let object;
  try {
    object = await (
      await connector.kcp(workspace.data)
    ).get({ group: SYNC_TARGET_GROUP, version: SYNC_TARGET_VERSION, resource: SYNC_TARGET_RESOURCE, name });
  } finally {
    await connector.close();
  }
  if (object === undefined) throw new Error(`No SyncTarget ${name} in ${workspace.data}`);
  const target = SyncTargetSchema.parse(object);
  if (syncModeOf(target.spec) !== 'Pull')
    throw new Error(
      `SyncTarget ${name} is in Push mode: tmc's functions sync it, and a syncer would be refused. Set spec.syncMode: Pull (and remove its credentials) first`,
    );
  const text = syncerManifest({
    syncTargetName: name,
    syncTargetUid: target.metadata.uid ?? '',
    workspace: workspace.data,
    vwKubeconfig: readFileSync(credentials, 'utf8'),
    image: options.image,
    namespace: options.namespace,
    healthPort: options.healthPort,
    metricsPort: options.metricsPort,
    allowedRiskyKinds: target.spec.allowedRiskyKinds,
    extraResources: options.resource,
    syncRbac: options.syncRbac === true,
  })
    .map((doc) => stringify(doc))
    .join('---\n');
  if (options.output === undefined || options.output === '-') process.stdout.write(text);
  else writeFileSync(options.output, text, { mode: 0o600 });
}

export function registerSyncerManifestCommand(syncer: Command): void {
  syncer
    .command('manifest <synctarget>')
    .description(
      "Print what to apply to a pull-mode SyncTarget's cluster: Namespace, ServiceAccount, least RBAC, credentials Secret, syncer Deployment",
    )
    .option('--state-dir <dir>', 'state directory of the running local stack', '.tmc')
    .option('-w, --workspace <path>', 'kcp workspace of the SyncTarget', DEFAULT_WORKSPACE)
    // Not --kcp-kubeconfig: that is `tmc syncer`'s own flag (the virtual-workspace credentials), parsed before this.
    .option(
      '--kubeconfig <file>',
      'kubeconfig of kcp, to read the SyncTarget',
      process.env.TMC_KCP_KUBECONFIG ?? '.tmc/kcp.kubeconfig',
    )
    .option(
      '--syncer-kubeconfig <file>',
      "the syncer's virtual-workspace kubeconfig (tmc syncer kubeconfig; default <state-dir>/syncers/<synctarget>.kubeconfig)",
    )
    .option('--image <image>', 'the syncer image (deploy/syncer/Dockerfile)', 'tmc-syncer:latest')
    .option('-n, --namespace <namespace>', 'namespace the syncer runs in on the cluster', 'tmc-syncer')
    .option(
      '--resource <resource.group>',
      'a custom resource the SyncTarget receives, added to the role (repeatable), e.g. widgets.example.com',
      collectResource,
      [],
    )
    .option(
      '--sync-rbac',
      'also sync Roles and bindings (grants escalate and bind: the syncer can then grant anything)',
    )
    .option('--health-port <port>', "the syncer's /healthz and /readyz port", parsePort, 8080)
    .option('--metrics-port <port>', "the syncer's Prometheus /metrics port", parsePort, 9090)
    .option('-o, --output <file>', 'write to this file (mode 0600) instead of printing')
    .action((name: string, options: SyncerManifestCommandOptions) => manifestAction(name, options));
}
