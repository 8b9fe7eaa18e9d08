import { createHash, randomUUID } from 'node:crypto';
import { existsSync, unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import { KubeClusterClient } from '../adapters/kube/kube-cluster-client';
import { loadKubeconfig } from '../adapters/kube/kubeconfig';
import type { SyncMessage } from '../api/messages';
import { describeRef, objectKey } from '../api/object-ref';
import { asTmcError, ConfigurationError } from '../errors/tmc-error';
import type { KubeClient, KubeConnector } from '../ports/kube-client';
import type { SyncRecord } from '../ports/sync-state-store';
import type { Metrics } from '../ports/telemetry';
import { syncOne, type SyncApplyDeps, type SyncResult } from '../sync/apply';
import { KeyedLock } from '../sync/keyed-lock';
import type { Log } from '../observability/log';
import { SyncTargetInfoSchema } from '../vw/syncer-view';
import { loadVwEndpoint, VwClient } from './vw-client';
import { VwKcpClient } from './vw-kcp-client';
import { VwSyncStateStore } from './vw-sync-state';
import { FeedConnection } from './feed-connection';
import { StatusWatch } from './status-watch';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeConfig as KubeConfigClass } from '@kubernetes/client-node/dist/config.js';

export interface SyncerOptions {
  syncTargetName: string;
  syncTargetUid: string;
  /** The SyncTarget's workspace (`--workspace-cluster`, e.g. `root:my-workspace`). */
  workspace: string;
  kcpKubeconfig: string;
  /** The cluster's kubeconfig file; absent: the pod's ServiceAccount (in-cluster, as the manifest runs it). */
  clusterKubeconfig: string | undefined;
  /** Seconds between full passes over the SyncTarget's work (a safety net: the change feed carries changes). */
  resyncSeconds: number;
  /** Seconds between heartbeats (what keeps the SyncTarget Ready). */
  heartbeatSeconds: number;
  qps: number;
  burst: number;
  /** How often the `--kcp-kubeconfig` file is checked for rotated credentials (default 2000 ms; a 401 also re-reads it). */
  kubeconfigPollMs?: number;
  log: Log;
  metrics: Metrics;
}

/** The syncer refused to start: the message says what to fix. */
export class SyncerStartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncerStartupError';
  }
}

/** Deferred items are tried again this much later at the least (a 429's Retry-After may ask for more). */
const MIN_RETRY_SECONDS = 1;

/**
 * The pull-mode syncer: applies its SyncTarget's work to the cluster beside it with the same sync code as push mode
 * (lib/sync/apply.ts `syncOne`), its state read and written through the virtual workspace instead of DynamoDB. Work
 * comes from a full pass at start and every resync, and from the change feed between; a pass only ever acts on items
 * the view listed, so an empty or failed list never removes anything downstream.
 */
export class Syncer {
  readonly cluster: KubeClient;
  private readonly vw: VwClient;
  private readonly deps: SyncApplyDeps;
  private readonly retries = new Map<string, { message: SyncMessage; at: number }>();
  private readonly limit = pLimit(4);
  private timers: NodeJS.Timeout[] = [];
  private readonly status: StatusWatch;
  /** The change feed, when the virtual workspace offers one. */
  readonly feed: FeedConnection | undefined;
  private stopped = false;
  /** Whether the last full pass and heartbeat succeeded: what /readyz says. */
  ready = false;
  lastPassAt: number | undefined;

  private constructor(
    readonly options: SyncerOptions,
    vw: VwClient,
    cluster: KubeClient,
    clusterConfig: KubeConfig,
    contentKey: Uint8Array,
    feedUrl: string | undefined,
  ) {
    this.vw = vw;
    this.status = new StatusWatch(clusterConfig, vw, options.log.child({ cluster: options.syncTargetName }));
    this.cluster = cluster;
    const kcp = new VwKcpClient(vw, options.workspace);
    const own = (workspace: string, name: string): void => {
      if (workspace !== options.workspace || name !== options.syncTargetName)
        throw new ConfigurationError(
          `The syncer of ${options.syncTargetName} serves no SyncTarget ${workspace}/${name}`,
        );
    };
    const kube: KubeConnector = {
      kcp: async (workspace) => {
        own(workspace, options.syncTargetName);
        return kcp;
      },
      cluster: async (workspace, name) => {
        own(workspace, name);
        return cluster;
      },
      forget: () => undefined,
    };
    this.deps = {
      kube,
      syncState: new VwSyncStateStore(vw, options.syncTargetName),
      metrics: options.metrics,
      log: options.log.child({ workspace: options.workspace, cluster: options.syncTargetName }),
      namespaces: new Set(),
      locks: new KeyedLock(),
      contentKey: async () => contentKey,
    };
    this.feed = feedUrl
      ? new FeedConnection({
          url: feedUrl,
          // Read at every (re)connect, so a reconnect after a rotation uses the new credential.
          get token() {
            return vw.endpoint.token;
          },
          log: this.deps.log,
          // List+resume: whatever was pushed while the syncer was not connected is found by the pass.
          onConnect: () => void this.fullPass(),
          onFrame: (frame) => {
            for (const message of frame.messages) void this.reconcile(message);
            // A type first placed here between passes has its status watched from now on too.
            if (!this.stopped) this.status.ensure(frame.messages.map((m) => m.ref));
          },
        })
      : undefined;
  }

  /** Checks both kubeconfigs and the SyncTarget, then returns a syncer ready to {@link run}. Throws SyncerStartupError. */
  static async create(options: SyncerOptions): Promise<Syncer> {
    const endpoint = await loadVwEndpoint(options.kcpKubeconfig).catch((err: unknown) => {
      throw new SyncerStartupError(asTmcError(err).message);
    });
    const vw = new VwClient(endpoint, {
      qps: options.qps,
      burst: options.burst,
      attempts: 3,
      reload: () => loadVwEndpoint(options.kcpKubeconfig),
    });
    const clusterConfig = await loadClusterConfig(options);
    const cluster = new KubeClusterClient(options.syncTargetName, clusterConfig, {
      maxConcurrency: Math.max(1, options.burst),
    });
    const ready = await cluster.ready();
    if (!ready.ok)
      throw new SyncerStartupError(
        `The cluster ${options.clusterKubeconfig === undefined ? '(in-cluster)' : 'of --cluster-kubeconfig'} did not answer /readyz: ${ready.detail ?? 'not ready'}`,
      );

    let info;
    try {
      const body = await vw.request('GET', '');
      if (body === undefined)
        throw new SyncerStartupError(
          `The virtual workspace has no SyncTarget ${options.syncTargetName} in ${options.workspace}`,
        );
      info = SyncTargetInfoSchema.parse(body);
    } catch (err) {
      if (err instanceof SyncerStartupError) throw err;
      const e = asTmcError(err);
      throw new SyncerStartupError(
        e.statusCode === 401
          ? `The virtual workspace did not accept the credentials of --kcp-kubeconfig for SyncTarget ${options.syncTargetName} in ${options.workspace} (is the server URL .../syncers/${options.workspace}/${options.syncTargetName}?)`
          : `The virtual workspace could not be asked about SyncTarget ${options.syncTargetName}: ${e.message}`,
      );
    }
    if (info.uid !== options.syncTargetUid) {
      throw new SyncerStartupError(
        `--sync-target-uid ${options.syncTargetUid} does not match SyncTarget ${options.syncTargetName}, whose uid is ${info.uid ?? '(none)'}: was it deleted and created again?`,
      );
    }
    if (info.syncMode !== 'Pull') {
      throw new SyncerStartupError(
        `SyncTarget ${options.syncTargetName} is in ${info.syncMode} mode: tmc's functions sync it. Set spec.syncMode: Pull (and remove its credentials) to run a syncer for it`,
      );
    }
    // Secret content hashes need a key the syncer holds: one derived from its credential (a rotation re-applies once).
    const contentKey = createHash('sha256').update(`tmc-syncer-content-key|${endpoint.token}`).digest();
    return new Syncer(
      options,
      vw,
      cluster,
      clusterConfig,
      contentKey,
      info.feedUrl !== undefined ? info.feedUrl : undefined,
    );
  }

  /** Connects the change feed, starts the first pass, the resync and heartbeat timers and the retry loop. */
  async run(): Promise<void> {
    watchFile(
      this.options.kcpKubeconfig,
      { interval: this.options.kubeconfigPollMs ?? 2000, persistent: false },
      this.onKubeconfigChange,
    );
    await this.heartbeat();
    // Connected before the first pass lists, so no change falls between the list and the feed.
    this.feed?.start();
    await this.fullPass();
    this.timers.push(setInterval(() => void this.fullPass(), this.options.resyncSeconds * 1000));
    this.timers.push(setInterval(() => void this.heartbeat(), this.options.heartbeatSeconds * 1000));
    this.timers.push(setInterval(() => void this.retryDue(), 1000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    unwatchFile(this.options.kcpKubeconfig, this.onKubeconfigChange);
    this.feed?.stop();
    this.status.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.limit(() => Promise.resolve());
    if (this.cluster instanceof KubeClusterClient) this.cluster.close();
  }

  private readonly onKubeconfigChange = (): void => void this.reloadCredentials();

  /**
   * Re-reads `--kcp-kubeconfig` (rewritten by `tmc syncer kubeconfig --rotate`, or by the kubelet when the Secret
   * changes) and uses its credentials from the next request on; an unreadable file keeps the current ones.
   */
  async reloadCredentials(): Promise<boolean> {
    let next;
    try {
      next = await loadVwEndpoint(this.options.kcpKubeconfig);
    } catch (err) {
      this.deps.log.warn('The --kcp-kubeconfig file changed but could not be used; keeping the current credentials', {
        error: asTmcError(err).message,
      });
      return false;
    }
    const current = this.vw.endpoint;
    if (next.token === current.token && next.server === current.server) return false;
    this.deps.log.info('Using the new virtual-workspace credentials of --kcp-kubeconfig');
    this.vw.setEndpoint(next);
    return true;
  }

  /** The feed's and the passes' entry: one message reconciled by the shared sync code. */
  async reconcile(message: SyncMessage): Promise<SyncResult> {
    const key = `${objectKey(message.ref)}#${message.cluster}`;
    const attempt = this.retries.get(key) ? 2 : 1;
    try {
      const result = await this.limit(() => syncOne(this.deps, message, attempt));
      if (result.result === 'deferred')
        this.retries.set(key, { message, at: Date.now() + Math.max(MIN_RETRY_SECONDS, result.delaySeconds) * 1000 });
      else this.retries.delete(key);
      return result;
    } catch (err) {
      this.deps.log.warn(`Reconciling ${describeRef(message.ref)} failed; retrying`, {
        error: asTmcError(err).toJSON(),
      });
      this.retries.set(key, { message, at: Date.now() + 5000 });
      return { result: 'deferred', delaySeconds: 5, category: asTmcError(err).category };
    }
  }

  /** Every listed item reconciled: no writes where nothing changed (the recorded hash matches). */
  async fullPass(): Promise<{ items: number; failed: boolean }> {
    if (this.stopped) return { items: 0, failed: false };
    let records: SyncRecord[];
    try {
      records = await this.deps.syncState.listForCluster(this.options.syncTargetName);
    } catch (err) {
      // Nothing is concluded from a failed list: the next pass tries again.
      this.deps.log.warn("Listing the SyncTarget's work failed; keeping everything as it is", {
        error: asTmcError(err).toJSON(),
      });
      return { items: 0, failed: true };
    }
    await Promise.all(records.map((record) => this.reconcile(messageFor(record))));
    // Status of every placed type is watched from here on (list+watch), so it is back in kcp as fast as in push mode.
    if (!this.stopped) this.status.ensure(records.map((r) => r.ref));
    this.lastPassAt = Date.now();
    this.ready = true;
    return { items: records.length, failed: false };
  }

  private async retryDue(): Promise<void> {
    const now = Date.now();
    for (const { message, at } of [...this.retries.values()])
      if (at <= now && !this.stopped) await this.reconcile(message);
  }

  async heartbeat(): Promise<boolean> {
    try {
      await this.vw.request('POST', 'heartbeat', {});
      return true;
    } catch (err) {
      this.deps.log.warn('The heartbeat did not reach the virtual workspace', { error: asTmcError(err).toJSON() });
      return false;
    }
  }

  /** The virtual-workspace client, for the status reporter and the change feed. */
  get client(): VwClient {
    return this.vw;
  }
}

/** A listed item as the message sync-apply would get for it: reconcile toward the newest state, at its decision. */
export function messageFor(record: SyncRecord): SyncMessage {
  return {
    type: 'sync',
    ref: record.ref,
    cluster: record.cluster,
    action: 'apply',
    decisionVersion: record.decisionVersion,
    trace: { traceId: randomUUID(), enqueuedAt: new Date().toISOString() },
  };
}

/** Where a pod's ServiceAccount token is mounted (client-node's in-cluster config reads it on every request). */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The cluster's KubeConfig: from `--cluster-kubeconfig`, or in a pod from its ServiceAccount. Throws SyncerStartupError. */
async function loadClusterConfig(options: SyncerOptions): Promise<KubeConfig> {
  const file = options.clusterKubeconfig;
  if (file === undefined) {
    if (!process.env.KUBERNETES_SERVICE_HOST || !existsSync(SERVICE_ACCOUNT_TOKEN))
      throw new SyncerStartupError(
        `No --cluster-kubeconfig, and not in a pod (no KUBERNETES_SERVICE_HOST or no ServiceAccount token at ${SERVICE_ACCOUNT_TOKEN})`,
      );
    const config = new KubeConfigClass();
    config.loadFromCluster();
    return config;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new SyncerStartupError(`--cluster-kubeconfig ${file} could not be read`);
  }
  try {
    return loadKubeconfig(text, { uniqueName: `syncer-${options.syncTargetName}` }).config;
  } catch (err) {
    throw new SyncerStartupError(`--cluster-kubeconfig ${file} is unusable: ${asTmcError(err).message}`);
  }
}
