import { KubeClusterClient } from '../../../lib/adapters/kube/kube-cluster-client';
import { loadKubeconfig } from '../../../lib/adapters/kube/kubeconfig';
import type { KubeClient, KubeConnector } from '../../../lib/ports/kube-client';
import { kubeconfigFor } from '../../../lib/sim/kubeconfig';
import type { SimServer } from '../../../lib/sim';

/**
 * A KubeConnector over the simulator's servers, built the way KubeConnectorImpl builds clients (one KubeConfig and
 * one KubeClusterClient per endpoint, unique names), without needing SyncTarget objects and credential Secrets.
 */
export class SimConnector implements KubeConnector {
  private readonly clients = new Map<string, KubeClusterClient>();

  constructor(
    private readonly kcpServer: SimServer,
    private readonly clusters: Record<string, SimServer>,
    /** 0 (the default here): every discovery read asks the server; the functions' clients keep it for minutes. */
    private readonly discoveryTtlMs = 0,
  ) {}

  private client(name: string, server: string): KubeClusterClient {
    let client = this.clients.get(name);
    if (!client) {
      const { config } = loadKubeconfig(kubeconfigFor(name, server, 'test-token'), { uniqueName: name });
      client = new KubeClusterClient(name, config, { discoveryTtlMs: this.discoveryTtlMs });
      this.clients.set(name, client);
    }
    return client;
  }

  async kcp(workspace: string): Promise<KubeClient> {
    return this.client(`kcp:${workspace}`, this.kcpServer.serverUrl(workspace));
  }

  async cluster(_workspace: string, syncTarget: string): Promise<KubeClient> {
    const server = this.clusters[syncTarget];
    if (!server) throw new Error(`No simulated cluster ${syncTarget}`);
    return this.client(syncTarget, server.serverUrl());
  }

  forget(): void {}

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
