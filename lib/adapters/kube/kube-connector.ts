import { systemClock, type Clock } from '../../ports/clock';
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { secretOutsideWorkspace } from '../../api/cluster-credentials';
import {
  ClusterConfigurationError,
  ClusterCredentialsUnavailableError,
  ConfigurationError,
  kcpTarget,
} from '../../errors/tmc-error';
import type { KubeClient, KubeConnector } from '../../ports/kube-client';
import { EksTokenSource } from './eks-token';
import { KubeClusterClient, type KubeClusterClientOptions } from './kube-cluster-client';
import { eksKubeconfig, kcpWorkspaceUrl, loadKubeconfig } from './kubeconfig';
import type { SecretReader } from './secret-reader';
import { SyncTargetConnectionSchema } from './sync-target-credentials';
import { syncModeOf, type SyncMode } from '../../api/crds/sync-target';

/** Where the kcp kubeconfig comes from: a file (local stack) or a Secrets Manager secret (cloud). */
export type KcpKubeconfigSource = { path: string } | { secretArn: string } | { text: string };

export interface KubeConnectorOptions {
  kcp: KcpKubeconfigSource;
  /** Required for `{secretArn}` sources and for SyncTargets with `credentials.secretsManagerArn`. */
  secrets?: SecretReader;
  client?: KubeClusterClientOptions;
  /** The token source of an `eks` SyncTarget; by default signed with the function's role (EksTokenSource). */
  eksTokens?: (eks: { clusterName: string; region: string }) => { token(): Promise<string> };
  /** How long credentials read for a client are trusted before they are read again (CREDENTIAL_TTL_MS). */
  credentialTtlMs?: number;
  now?: Clock;
}

/** A cached client: when its credentials were read, and whether a 401 said they no longer work. */
interface CachedClient {
  at: number;
  health: { stale: boolean };
  client: Promise<KubeClusterClient>;
}

/**
 * How long a container trusts credentials it read (an hour, as AWS's Secrets Manager caching client): a 401 refreshes
 * them at once, so a rotation never waits for it; the TTL only bounds how long a revoked-but-working old credential
 * stays in use. Each read is a Secrets Manager call in the cloud, so a shorter TTL is what an idle stack pays for.
 */
export const CREDENTIAL_TTL_MS = 60 * 60_000;

const SYNC_TARGETS = { group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets' } as const;

/**
 * Builds and caches one KubeClusterClient per endpoint per container: kcp per workspace (the kcp kubeconfig's server
 * rewritten to `<base>/clusters/<workspace>`), physical clusters per (workspace, SyncTarget) from the SyncTarget's
 * credentials reference. Secrets are read into memory only; they never reach a log or an error message.
 */
export class KubeConnectorImpl implements KubeConnector {
  private kcpText: { at: number; text: Promise<string> } | undefined;
  private readonly kcpClients = new Map<string, CachedClient>();
  private readonly clusterClients = new Map<string, CachedClient>();
  private readonly ttlMs: number;
  private readonly now: Clock;

  constructor(private readonly options: KubeConnectorOptions) {
    this.ttlMs = options.credentialTtlMs ?? CREDENTIAL_TTL_MS;
    this.now = options.now ?? systemClock;
  }

  kcp(workspace: string): Promise<KubeClient> {
    return this.kcpClient(workspace);
  }

  cluster(workspace: string, syncTarget: string): Promise<KubeClient> {
    return this.cached(this.clusterClients, `${workspace}|${syncTarget}`, (onUnauthorized) =>
      this.buildCluster(workspace, syncTarget, onUnauthorized),
    );
  }

  /**
   * The SyncTarget's sync mode. A cached push client answers Push without a request (only a push SyncTarget builds
   * one; `forget` drops it when the SyncTarget changes); otherwise kcp is read. Throws when the SyncTarget is absent
   * or unreadable: the caller retries.
   */
  async syncMode(workspace: string, syncTarget: string): Promise<SyncMode> {
    const cached = this.clusterClients.get(`${workspace}|${syncTarget}`);
    if (
      cached !== undefined &&
      (await cached.client.then(
        () => true,
        () => false,
      ))
    )
      return 'Push';
    return syncModeOf((await this.readSyncTarget(workspace, syncTarget)).spec);
  }

  forget(workspace: string, syncTarget: string): void {
    const key = `${workspace}|${syncTarget}`;
    const entry = this.clusterClients.get(key);
    this.clusterClients.delete(key);
    entry?.client.then((c) => c.close()).catch(() => undefined);
  }

  /** Closes every pooled connection (tests, local-stack shutdown). */
  async close(): Promise<void> {
    const all = [...this.kcpClients.values(), ...this.clusterClients.values()];
    this.kcpClients.clear();
    this.clusterClients.clear();
    await Promise.all(all.map((e) => e.client.then((c) => c.close()).catch(() => undefined)));
  }

  private kcpClient(workspace: string): Promise<KubeClusterClient> {
    return this.cached(this.kcpClients, workspace, (onUnauthorized) => this.buildKcp(workspace, onUnauthorized));
  }

  /**
   * The cached client for `key`, built again from freshly read credentials once they are older than the TTL or a
   * request was answered 401 (rotated credentials are picked up without a cold start). The new client replaces the
   * old one only once it is built; the old one closes when its requests in flight are done. A failed refresh keeps
   * the old client (a failed read is no evidence the credentials changed) and tries again on the next call; a
   * failed first build does not stick.
   */
  private cached(
    map: Map<string, CachedClient>,
    key: string,
    build: (onUnauthorized: () => void) => Promise<KubeClusterClient>,
  ): Promise<KubeClusterClient> {
    const existing = map.get(key);
    if (existing && !existing.health.stale && this.now() - existing.at < this.ttlMs) return existing.client;
    const health = { stale: false };
    const built = build(() => {
      health.stale = true;
    });
    const fresh: CachedClient = { at: this.now(), health, client: built };
    if (existing === undefined) {
      map.set(key, fresh);
      built.catch(() => {
        if (map.get(key) === fresh) map.delete(key);
      });
      return built;
    }
    // Until the refresh lands, callers keep the old client; the refresh is not retried by them while it runs.
    existing.at = this.now();
    existing.health.stale = false;
    return built.then(
      (client) => {
        if (map.get(key) === existing) {
          map.set(key, fresh);
          void existing.client.then((old) => old.closeWhenIdle());
        }
        return client;
      },
      () => {
        existing.health.stale = true;
        return existing.client;
      },
    );
  }

  private async buildKcp(workspace: string, onUnauthorized: () => void): Promise<KubeClusterClient> {
    const text = await this.readKcpKubeconfig();
    const target = kcpTarget(workspace);
    const { config } = loadKubeconfig(text, {
      uniqueName: `tmc-${target}`,
      server: (s) => kcpWorkspaceUrl(s, workspace),
    });
    return new KubeClusterClient(target, config, { ...this.options.client, onUnauthorized });
  }

  /** kcp's kubeconfig, read again after the TTL (a rotated kcp token is picked up). */
  private readKcpKubeconfig(): Promise<string> {
    if (this.kcpText && this.now() - this.kcpText.at >= this.ttlMs) this.kcpText = undefined;
    if (!this.kcpText) {
      const source = this.options.kcp;
      const text =
        'text' in source
          ? Promise.resolve(source.text)
          : 'path' in source
            ? readFile(source.path, 'utf8').catch((err: unknown) => {
                throw new ConfigurationError(`The kcp kubeconfig ${source.path} could not be read`, { cause: err });
              })
            : this.secretReader().read(source.secretArn);
      const entry = { at: this.now(), text };
      this.kcpText = entry;
      text.catch(() => {
        if (this.kcpText === entry) this.kcpText = undefined;
      });
    }
    return this.kcpText.text;
  }

  private secretReader(): SecretReader {
    if (!this.options.secrets) throw new ConfigurationError('A Secrets Manager reader is required for secret ARNs');
    return this.options.secrets;
  }

  private async readSyncTarget(
    workspace: string,
    syncTarget: string,
  ): Promise<z.infer<typeof SyncTargetConnectionSchema>> {
    const kcp = await this.kcpClient(workspace);
    const object = await kcp.get({ ...SYNC_TARGETS, name: syncTarget });
    if (!object) {
      throw new ClusterConfigurationError(`SyncTarget ${syncTarget} does not exist in ${workspace}`, {
        cluster: syncTarget,
      });
    }
    const parsed = SyncTargetConnectionSchema.safeParse(object);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
      throw new ClusterConfigurationError(
        `SyncTarget ${syncTarget} in ${workspace} has unusable credentials (${where})`,
        { cluster: syncTarget },
      );
    }
    return parsed.data;
  }

  private async buildCluster(
    workspace: string,
    syncTarget: string,
    onUnauthorized: () => void,
  ): Promise<KubeClusterClient> {
    const kcp = await this.kcpClient(workspace);
    const target = await this.readSyncTarget(workspace, syncTarget);
    // A pull-mode cluster is reached only by its syncer: no function may call it, whatever path asked.
    if (syncModeOf(target.spec) === 'Pull') {
      throw new ClusterConfigurationError(
        `SyncTarget ${syncTarget} in ${workspace} is in pull mode: its syncer applies its work, tmc does not call the cluster`,
        {
          cluster: syncTarget,
        },
      );
    }
    const credentials = target.spec.workloadCluster.credentials;
    let text: string;
    if (credentials === undefined) {
      throw new ClusterConfigurationError(`SyncTarget ${syncTarget} in ${workspace} names no credentials`, {
        cluster: syncTarget,
      });
    } else if (credentials.secretRef) {
      text = await this.kubeconfigFromKcpSecret(kcp, credentials.secretRef, syncTarget);
    } else if (credentials.secretsManagerArn !== undefined) {
      // Admission refuses this too; checked again here, before the read, for SyncTargets admitted earlier or written
      // while the webhook was failing open.
      const outside = secretOutsideWorkspace(credentials.secretsManagerArn, workspace);
      if (outside)
        throw new ClusterConfigurationError(
          `SyncTarget ${syncTarget} in ${workspace} may not use its credentials: ${outside}`,
          { cluster: syncTarget },
        );
      text = await this.secretReader().read(credentials.secretsManagerArn);
    } else if (credentials.eks !== undefined) {
      return this.eksCluster(
        workspace,
        syncTarget,
        target.spec.workloadCluster.endpoint,
        credentials.eks,
        onUnauthorized,
      );
    } else {
      throw new ClusterConfigurationError(`SyncTarget ${syncTarget} in ${workspace} names no credentials`, {
        cluster: syncTarget,
      });
    }
    // Admission sees only the reference, not the kubeconfig, so an exec plugin is refused here, before any request.
    const { config } = loadKubeconfig(text, { uniqueName: `tmc-${workspace}-${syncTarget}`, refuseExecPlugin: true });
    return new KubeClusterClient(syncTarget, config, { ...this.options.client, onUnauthorized });
  }

  /** An EKS cluster: its endpoint and CA from the SyncTarget, a bearer token signed with the function's role. */
  private eksCluster(
    workspace: string,
    syncTarget: string,
    endpoint: string | undefined,
    eks: { clusterName: string; region: string; roleArn?: string; certificateAuthorityData?: string },
    onUnauthorized: () => void,
  ): KubeClusterClient {
    if (endpoint === undefined) {
      throw new ClusterConfigurationError(
        `SyncTarget ${syncTarget} in ${workspace} uses EKS credentials but has no spec.workloadCluster.endpoint`,
        { cluster: syncTarget },
      );
    }
    if (eks.roleArn !== undefined) {
      throw new ClusterConfigurationError(
        `SyncTarget ${syncTarget} in ${workspace} names eks.roleArn, which tmc does not assume: map tmc's function role in the cluster's EKS access entries and remove roleArn (docs/deploy.md)`,
        { cluster: syncTarget },
      );
    }
    const source =
      this.options.eksTokens?.(eks) ?? new EksTokenSource({ clusterName: eks.clusterName, region: eks.region });
    const config = eksKubeconfig(`tmc-${workspace}-${syncTarget}`, endpoint, eks.certificateAuthorityData);
    return new KubeClusterClient(syncTarget, config, {
      ...this.options.client,
      bearerToken: () => source.token(),
      onUnauthorized,
    });
  }

  private async kubeconfigFromKcpSecret(
    kcp: KubeClient,
    ref: { namespace: string; name: string },
    syncTarget: string,
  ): Promise<string> {
    // Read errors propagate with their own category (5xx, 429, network: retried). A 404 is retried too: kcp answering
    // 404 for a Secret it holds is an API hiccup, and a permanent configuration error would stop the cluster's work.
    const secret = await kcp.get({
      group: '',
      version: 'v1',
      resource: 'secrets',
      namespace: ref.namespace,
      name: ref.name,
    });
    if (!secret) {
      throw new ClusterCredentialsUnavailableError(
        `Secret ${ref.namespace}/${ref.name} for SyncTarget ${syncTarget} was not found in kcp`,
        { cluster: syncTarget },
      );
    }
    const data = secret.data;
    const encoded =
      typeof data === 'object' && data !== null && 'kubeconfig' in data
        ? (data as { kubeconfig: unknown }).kubeconfig
        : undefined;
    if (typeof encoded !== 'string') {
      throw new ClusterConfigurationError(
        `Secret ${ref.namespace}/${ref.name} for SyncTarget ${syncTarget} has no data.kubeconfig`,
        {
          cluster: syncTarget,
        },
      );
    }
    return Buffer.from(encoded, 'base64').toString('utf8');
  }
}
