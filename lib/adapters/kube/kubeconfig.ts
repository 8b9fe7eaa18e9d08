// The KubeConfig module alone, not the package index: the index also pulls in watch/exec/attach/cp (ws, tar-fs, streamx
// and more, ~125 KiB of every Kubernetes-facing bundle) that tmc never uses (lib/adapters/kube has its own transport).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
// js-yaml, the parser client-node's KubeConfig itself uses: one YAML parser in the functions' bundles (`yaml` is
// ~115 KiB minified, js-yaml ~43 KiB), with merge keys (`<<`) as kubeconfigs may use them.
import { load as parseYaml } from 'js-yaml';
import { z } from 'zod';
import { isLogicalClusterName, LOGICAL_CLUSTER_RULE } from '../../api/logical-cluster';
import { ClusterConfigurationError, ValidationError } from '../../errors/tmc-error';

/**
 * Kubeconfigs cross a trust boundary (files, Secrets, Secrets Manager), so the parts tmc relies on are checked with zod
 * before client-node sees them. The rest (exec, auth-provider, certificates) passes through untouched.
 */
const NamedCluster = z.object({ name: z.string().min(1), cluster: z.looseObject({ server: z.string().url() }) });
const NamedUser = z.object({ name: z.string().min(1), user: z.looseObject({}).nullish() });
const NamedContext = z.object({
  name: z.string().min(1),
  context: z.looseObject({ cluster: z.string().min(1), user: z.string().optional(), namespace: z.string().optional() }),
});
const KubeconfigFileSchema = z.looseObject({
  clusters: z.array(NamedCluster).min(1),
  users: z.array(NamedUser).optional().default([]),
  contexts: z.array(NamedContext).optional().default([]),
  'current-context': z.string().optional(),
});

export interface LoadKubeconfigOptions {
  /** Unique per endpoint: client-node caches exec tokens by user name, so two clusters must never share names. */
  uniqueName: string;
  /** Replaces the server URL (kcp: `<base>/clusters/<workspace>`). */
  server?: (current: string) => string;
  /**
   * Refuses a user with an exec plugin (`users[].user.exec`): clusters reached from tmc's functions, where no plugin
   * binary (`aws`, `gke-gcloud-auth-plugin`, `kubelogin`) exists. The CLI, on an operator's machine, may use one.
   */
  refuseExecPlugin?: boolean;
}

/** What to use instead of an exec-plugin kubeconfig for a cluster tmc's functions reach (docs/deploy.md). */
export const EXEC_PLUGIN_ALTERNATIVES =
  'use the eks credential form (spec.workloadCluster.credentials.eks: {clusterName, region}) for EKS, a kubeconfig with a token (a ServiceAccount token) for any cluster, or the syncer (pull mode) where neither fits';

/** The parsed server URL of a kubeconfig's current context, before any rewrite. */
export interface LoadedKubeconfig {
  config: KubeConfig;
  server: string;
}

/**
 * Builds a KubeConfig holding exactly one cluster, user and context, all named `uniqueName`, from the current context
 * of `text` (YAML or JSON). Throws ClusterConfigurationError naming `uniqueName` (never the content) when unusable.
 */
export function loadKubeconfig(text: string, options: LoadKubeconfigOptions): LoadedKubeconfig {
  const fail = (why: string): never => {
    throw new ClusterConfigurationError(`The kubeconfig for ${options.uniqueName} is unusable: ${why}`, {
      cluster: options.uniqueName,
    });
  };
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    return fail('not YAML or JSON');
  }
  const parsed = KubeconfigFileSchema.safeParse(raw);
  if (!parsed.success) return fail(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  // client-node maps the file's fields (exec, auth-provider, certificates, token files) to its own types; tmc then
  // copies the current context's cluster and user under one unique name.
  const source = new KubeConfig();
  try {
    source.loadFromString(text);
  } catch {
    return fail('client-node could not load it');
  }
  if (parsed.data['current-context'] === undefined && source.getContexts().length > 0)
    source.setCurrentContext(source.getContexts()[0].name);
  const cluster = source.getCurrentCluster() ?? (source.getClusters().length === 1 ? source.getClusters()[0] : null);
  if (!cluster) return fail('no current context naming a known cluster');
  const user = source.getCurrentUser();
  if (options.refuseExecPlugin && user?.exec) {
    return fail(
      `its user runs an exec plugin (users[].user.exec: ${JSON.stringify(
        String(user.exec.command ?? '')
          .split('/')
          .pop(),
      )}), which cannot run in tmc's functions; ${EXEC_PLUGIN_ALTERNATIVES}`,
    );
  }
  const context = source.getContextObject(source.getCurrentContext());

  const originalServer = cluster.server;
  const server = (options.server ? options.server(originalServer) : originalServer).replace(/\/+$/, '');
  const name = options.uniqueName;
  const config = new KubeConfig();
  config.loadFromOptions({
    // client-node refuses plain http unless skipTLSVerify is set; there is no TLS to verify on http (the local
    // simulator), so setting it there changes nothing else.
    clusters: [{ ...cluster, name, server, skipTLSVerify: cluster.skipTLSVerify || server.startsWith('http:') }],
    users: [{ ...(user ?? {}), name }],
    contexts: [{ name, cluster: name, user: name, namespace: context?.namespace }],
    currentContext: name,
  });
  return { config, server: originalServer };
}

/**
 * A KubeConfig for an EKS cluster: its endpoint and CA (`certificateAuthorityData`, base64 PEM as EKS reports it), and
 * a user with no credentials of its own (the client adds the EKS bearer token on every request).
 */
export function eksKubeconfig(uniqueName: string, endpoint: string, certificateAuthorityData?: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: uniqueName,
        server: endpoint.replace(/\/+$/, ''),
        caData: certificateAuthorityData,
        skipTLSVerify: endpoint.startsWith('http:'),
      },
    ],
    users: [{ name: uniqueName }],
    contexts: [{ name: uniqueName, cluster: uniqueName, user: uniqueName }],
    currentContext: uniqueName,
  });
  return config;
}

/** `https://kcp:6443/clusters/root:org` → `https://kcp:6443`: the base any workspace path is appended to. */
export function kcpBaseUrl(server: string): string {
  return server.replace(/\/+$/, '').replace(/\/clusters\/[^/]+$/, '');
}

/**
 * The kcp URL of one logical cluster. Refuses a workspace that is not a logical cluster path: every caller validated
 * it already, and this is the last point before tmc's own identity is sent to a path outside `/clusters/<workspace>`.
 */
export function kcpWorkspaceUrl(server: string, workspace: string): string {
  if (!isLogicalClusterName(workspace)) {
    throw new ValidationError(
      `Refusing to reach kcp for ${JSON.stringify(workspace.slice(0, 256))}: not a logical cluster path (${LOGICAL_CLUSTER_RULE})`,
    );
  }
  return `${kcpBaseUrl(server)}/clusters/${workspace}`;
}
