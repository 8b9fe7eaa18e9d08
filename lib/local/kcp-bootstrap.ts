import { kcpTarget } from '../errors/tmc-error';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { KubeClusterClient, kcpWorkspaceUrl, loadKubeconfig } from '../adapters/kube';
import {
  SYNC_TARGET_GROUP,
  SYNC_TARGET_KIND,
  SYNC_TARGET_RESOURCE,
  SYNC_TARGET_VERSION,
} from '../api/crds/sync-target';
import type { KubeObject } from '../ports/kube-client';
import type { Log } from '../observability/log';

/** The namespace in kcp holding the clusters' kubeconfig Secrets the SyncTargets reference. */
export const TMC_SYSTEM_NAMESPACE = 'tmc-system';

export interface ClusterRegistration {
  name: string;
  /** The kubeconfig text tmc uses to reach the cluster (stored in a kcp Secret, referenced by the SyncTarget). */
  kubeconfig: string;
  endpoint: string;
  labels: Record<string, string>;
  capacity?: Record<string, string>;
  /** Pull mode: no kubeconfig Secret, a SyncTarget with no credentials; its syncer reaches tmc instead. */
  pull?: boolean;
}

const ManifestSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1) }),
});

/** The kinds config/tmc/ may hold, with their resources: CRDs, and tmc's namespace and RBAC. Nothing else. */
const CONFIG_KINDS: Record<string, { group: string; version: string; resource: string }> = {
  'apiextensions.k8s.io/v1 CustomResourceDefinition': {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
  },
  'v1 Namespace': { group: '', version: 'v1', resource: 'namespaces' },
  'rbac.authorization.k8s.io/v1 ClusterRole': {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterroles',
  },
  'rbac.authorization.k8s.io/v1 ClusterRoleBinding': {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterrolebindings',
  },
};

export interface ConfigManifest {
  resource: { group: string; version: string; resource: string; kind: string };
  object: KubeObject;
}

/**
 * Every object in `dir` (config/tmc/: YAML, possibly several documents a file), CRDs first, validated against the
 * kinds tmc installs; [] when the folder is missing. `kubectl apply -f config/tmc/` applies the same files.
 */
export function readTmcConfig(dir: string): ConfigManifest[] {
  if (!existsSync(dir)) return [];
  const manifests: ConfigManifest[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue;
      const parsed = ManifestSchema.safeParse(value);
      if (!parsed.success)
        throw new Error(
          `${file} holds something that is not a Kubernetes object: ${parsed.error.issues[0]?.message ?? ''}`,
        );
      const resource = CONFIG_KINDS[`${parsed.data.apiVersion} ${parsed.data.kind}`];
      if (resource === undefined)
        throw new Error(
          `${file}: ${parsed.data.apiVersion} ${parsed.data.kind} ${parsed.data.metadata.name} is not a kind config/tmc/ installs (${Object.keys(CONFIG_KINDS).join(', ')})`,
        );
      manifests.push({ resource: { ...resource, kind: parsed.data.kind }, object: parsed.data });
    }
  }
  const isCrd = (m: ConfigManifest): number => (m.resource.resource === 'customresourcedefinitions' ? 0 : 1);
  return manifests.sort((a, b) => isCrd(a) - isCrd(b));
}

/** A client for one kcp workspace, from a kcp kubeconfig (whatever workspace its server names). */
export function kcpClient(kcpKubeconfig: string, workspace: string): KubeClusterClient {
  const { config } = loadKubeconfig(kcpKubeconfig, {
    uniqueName: `tmc-local-kcp-${workspace}`,
    server: (s) => kcpWorkspaceUrl(s, workspace),
  });
  return new KubeClusterClient(kcpTarget(workspace), config);
}

// 60 s: under load a SyncTarget write waits on the fail-closed tmc-apis webhook (5 s timeout each try).
async function retrying<T>(what: string, attempt: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delayMs = 50;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} did not succeed within ${timeoutMs} ms`, { cause: err });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(1000, delayMs * 2);
    }
  }
}

export interface BootstrapOptions {
  kcpKubeconfig: string;
  workspace: string;
  /** config/tmc/: tmc's CRDs, its namespace and its RBAC. */
  configDir: string;
  clusters: ClusterRegistration[];
  logger: Log;
}

/** Applies everything in `configDir` (CRDs first) to the workspace; false (with a warning) when it holds no CRDs. */
export async function installCrds(options: Omit<BootstrapOptions, 'clusters'>): Promise<boolean> {
  const kcp = kcpClient(options.kcpKubeconfig, options.workspace);
  try {
    const manifests = readTmcConfig(options.configDir);
    const crds = manifests.filter((m) => m.resource.resource === 'customresourcedefinitions');
    if (crds.length === 0) {
      options.logger.warn('No CRDs found; SyncTargets cannot be registered', { dir: options.configDir });
      return false;
    }
    options.logger.info(
      `Installing ${crds.length} CRDs and ${manifests.length - crds.length} more objects of config/tmc into ${options.workspace}`,
    );
    for (const { resource, object } of manifests) {
      await retrying(`Applying ${resource.kind} ${object.metadata.name}`, () =>
        kcp.apply(resource, object, { force: true }),
      );
    }
    return true;
  } finally {
    kcp.close();
  }
}

/** One kubeconfig Secret (in `tmc-system`) and one SyncTarget per cluster; the CRDs must be installed. */
export async function registerClusters(options: Omit<BootstrapOptions, 'configDir'>): Promise<void> {
  const kcp = kcpClient(options.kcpKubeconfig, options.workspace);
  try {
    await kcp.apply(
      { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace' },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: TMC_SYSTEM_NAMESPACE } },
      { force: true },
    );
    for (const cluster of options.clusters) {
      options.logger.info(`Registering cluster ${cluster.name} as a SyncTarget${cluster.pull ? ' in pull mode' : ''}`, {
        cluster: cluster.name,
        endpoint: cluster.endpoint,
      });
      const secretName = `${cluster.name}-kubeconfig`;
      if (!cluster.pull)
        await kcp.apply(
          { group: '', version: 'v1', resource: 'secrets', kind: 'Secret' },
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: {
              name: secretName,
              namespace: TMC_SYSTEM_NAMESPACE,
              labels: { 'tmc.kcp.io/sync-target': cluster.name },
            },
            type: 'Opaque',
            data: { kubeconfig: Buffer.from(cluster.kubeconfig, 'utf8').toString('base64') },
          },
          { force: true },
        );
      const syncTarget: KubeObject = {
        apiVersion: `${SYNC_TARGET_GROUP}/${SYNC_TARGET_VERSION}`,
        kind: SYNC_TARGET_KIND,
        metadata: { name: cluster.name, labels: cluster.labels },
        spec: {
          workloadCluster: {
            name: cluster.name,
            endpoint: cluster.endpoint,
            ...(cluster.pull
              ? {}
              : { credentials: { secretRef: { namespace: TMC_SYSTEM_NAMESPACE, name: secretName } } }),
          },
          ...(cluster.pull ? { syncMode: 'Pull' } : {}),
          ...(cluster.capacity ? { capacity: cluster.capacity } : {}),
        },
      };
      // Right after a CRD is created its resource may not be served yet: retry until it is.
      await retrying(`Applying SyncTarget ${cluster.name}`, () =>
        kcp.apply(
          {
            group: SYNC_TARGET_GROUP,
            version: SYNC_TARGET_VERSION,
            resource: SYNC_TARGET_RESOURCE,
            kind: SYNC_TARGET_KIND,
          },
          syncTarget,
          { force: true },
        ),
      );
    }
  } finally {
    kcp.close();
  }
}
