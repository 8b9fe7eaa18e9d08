import { kcpTarget } from '../errors/tmc-error';
import { existsSync, readFileSync } from 'node:fs';
import { KubeClusterClient } from '../adapters/kube/kube-cluster-client';
import { kcpWorkspaceUrl, loadKubeconfig } from '../adapters/kube/kubeconfig';
import { issueStatusCredential } from '../auth/status-credentials';
import type { KubeClient, KubeObject } from '../ports/kube-client';
import type { StatusCredentialStore } from '../ports/status-credential-store';
import { admissionKubeconfig, webhookCredentialsFor, type WebhookCredentialsFor } from './credentials';
import {
  APIS_WEBHOOK,
  MUTATING_TYPE,
  STATUS_WEBHOOK,
  VALIDATING_TYPE,
  WORKLOADS_WEBHOOK,
  apisWebhook,
  statusWebhook,
  workloadsWebhook,
} from './configurations';

/** A kubeconfig given as a file path or as its text. */
export type KubeconfigInput = string;

export interface InstallWebhooksOptions {
  /** tmc's HTTP API base URL. */
  url: string;
  /** The bearer token kcp and the clusters present (only for the returned credentials; never stored in the objects). */
  token?: string;
  /** The kcp workspace path (`root:org:ws`). */
  workspace: string;
  /**
   * The kcp username tmc's own kubeconfig authenticates as (`kubectl auth whoami` with it): kcp does not call the
   * workloads webhook for that user's UPDATEs. Default DEFAULT_TMC_USER; `''` sends every write through the webhook.
   */
  tmcUser?: string;
  /** kcp's kubeconfig (path or text); its server is rewritten to the workspace. */
  kcpKubeconfig: KubeconfigInput;
  /** Physical clusters that get the status webhook: name (the SyncTarget's) and kubeconfig (path or text). */
  clusters?: Array<{ name: string; kubeconfig: KubeconfigInput }>;
  caBundle?: string;
  /**
   * Where per-cluster status credentials are kept (tmc's state table). With it, each cluster's status webhook URL
   * carries a newly issued credential of its own in the path (the one before stays accepted), so clusters whose API
   * server cannot send a bearer token (EKS, GKE, AKS) are authenticated too.
   */
  statusCredentials?: StatusCredentialStore;
  /** Client overrides for tests (already-built clients take precedence over kubeconfigs). */
  clients?: { kcp?: KubeClient; clusters?: Record<string, KubeClient> };
}

export interface InstalledWebhook {
  target: string;
  kind: string;
  name: string;
  result: 'applied' | 'deleted' | 'absent';
}

export interface InstallWebhooksResult {
  webhooks: InstalledWebhook[];
  /** For the simulator's admission dispatcher (`credentialsFor`), when a token was given. */
  credentialsFor?: WebhookCredentialsFor;
  /** For real kcp/kube-apiserver: the admission kubeconfig holding the token (docs/webhooks.md), when a token was given. */
  admissionKubeconfig?: string;
}

function readKubeconfig(input: KubeconfigInput): string {
  // A kubeconfig's text always spans lines; a path never does.
  if (!input.includes('\n') && existsSync(input)) return readFileSync(input, 'utf8');
  return input;
}

export interface WebhookClients {
  kcp: KubeClient;
  clusters: Array<{ name: string; client: KubeClient }>;
  close(): void;
}

/** Clients for kcp (at the workspace) and each cluster, from kubeconfigs unless already-built clients are given. */
export function buildWebhookClients(options: InstallWebhooksOptions): WebhookClients {
  const owned: KubeClusterClient[] = [];
  const make = (target: string, text: string, server?: (s: string) => string): KubeClient => {
    const { config } = loadKubeconfig(text, { uniqueName: `tmc-webhooks-${target}`, server });
    const client = new KubeClusterClient(target, config, { maxConcurrency: 4 });
    owned.push(client);
    return client;
  };
  const kcp =
    options.clients?.kcp ??
    make(kcpTarget(options.workspace), readKubeconfig(options.kcpKubeconfig), (s) =>
      kcpWorkspaceUrl(s, options.workspace),
    );
  const clusters = (options.clusters ?? []).map(({ name, kubeconfig }) => ({
    name,
    client: options.clients?.clusters?.[name] ?? make(name, readKubeconfig(kubeconfig)),
  }));
  for (const [name, client] of Object.entries(options.clients?.clusters ?? {})) {
    if (!clusters.some((c) => c.name === name)) clusters.push({ name, client });
  }
  return { kcp, clusters, close: () => owned.forEach((c) => c.close()) };
}

function credentials(
  options: InstallWebhooksOptions,
): Pick<InstallWebhooksResult, 'credentialsFor' | 'admissionKubeconfig'> {
  if (!options.token) return {};
  return {
    credentialsFor: webhookCredentialsFor(options.url, options.token),
    admissionKubeconfig: admissionKubeconfig(options.url, options.token),
  };
}

async function applyOne(
  client: KubeClient,
  object: KubeObject,
  type: typeof MUTATING_TYPE | typeof VALIDATING_TYPE,
): Promise<InstalledWebhook> {
  // force: tmc owns these objects outright; a hand edit of a field tmc sets is reverted rather than failing the install.
  await client.apply(type, object, { force: true });
  return { target: client.target, kind: type.kind, name: object.metadata.name ?? '', result: 'applied' };
}

/**
 * Registers tmc's webhooks: in the kcp workspace `tmc-workloads` (mutating, every namespaced write, fail open) and
 * `tmc-apis` (validating, tmc's kinds, fail closed); on each cluster `tmc-status` (status updates of tmc-managed
 * objects, fail open). Server-side apply, so running it again changes nothing.
 */
export async function installWebhooks(options: InstallWebhooksOptions): Promise<InstallWebhooksResult> {
  const clients = buildWebhookClients(options);
  const endpoint = { apiUrl: options.url, caBundle: options.caBundle };
  try {
    const webhooks = await Promise.all([
      applyOne(clients.kcp, workloadsWebhook(endpoint, options.workspace, options.tmcUser), MUTATING_TYPE),
      applyOne(clients.kcp, apisWebhook(endpoint, options.workspace), VALIDATING_TYPE),
      ...clients.clusters.map(async ({ name, client }) => {
        const credential =
          options.statusCredentials === undefined
            ? undefined
            : await issueStatusCredential(options.statusCredentials, name);
        return applyOne(client, statusWebhook(endpoint, name, credential), VALIDATING_TYPE);
      }),
    ]);
    return { webhooks, ...credentials(options) };
  } finally {
    clients.close();
  }
}

export type UninstallWebhooksOptions = Omit<InstallWebhooksOptions, 'url' | 'token' | 'caBundle'> & { url?: string };

/** Removes what installWebhooks created; webhooks already gone count as done. */
export async function uninstallWebhooks(options: UninstallWebhooksOptions): Promise<InstallWebhooksResult> {
  const clients = buildWebhookClients({ ...options, url: options.url ?? '' });
  const remove = async (
    client: KubeClient,
    type: typeof MUTATING_TYPE | typeof VALIDATING_TYPE,
    name: string,
  ): Promise<InstalledWebhook> => ({
    target: client.target,
    kind: type.kind,
    name,
    result: await client.delete({ ...type, name }),
  });
  try {
    const webhooks = await Promise.all([
      remove(clients.kcp, MUTATING_TYPE, WORKLOADS_WEBHOOK),
      remove(clients.kcp, VALIDATING_TYPE, APIS_WEBHOOK),
      ...clients.clusters.map(async ({ name, client }) => {
        const removed = await remove(client, VALIDATING_TYPE, STATUS_WEBHOOK);
        // The cluster's path credential goes with its webhook: a copy of the old URL is refused from now on.
        await options.statusCredentials?.revoke(name);
        return removed;
      }),
    ]);
    return { webhooks };
  } finally {
    clients.close();
  }
}
