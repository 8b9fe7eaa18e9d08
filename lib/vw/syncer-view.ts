import { systemClock, type Clock } from '../ports/clock';
import { z } from 'zod';
import {
  SYNC_TARGET_GROUP,
  SYNC_TARGET_RESOURCE,
  SYNC_TARGET_VERSION,
  syncModeOf,
  SyncModeSchema,
  type SyncMode,
} from '../api/crds/sync-target';
import { SYNC_FINALIZER } from '../api/labels';
import type { PlacementMessage, StatusMessage } from '../api/messages';
import { describeRef, objectKey, ObjectRefSchema, type ObjectRef } from '../api/object-ref';
import { clusterChangeMessage } from '../health/cluster-change-message';
import { partialDecisionMessages } from '../health/cluster-returned';
import type { DecisionStore } from '../ports/decision-store';
import { recordClusterObservation } from '../health/record-observation';
import type { HealthStore } from '../ports/health-store';
import type { KubeConnector, KubeObject } from '../ports/kube-client';
import { SyncRecordSchema, type DecisionView, type SyncRecord, type SyncStateStore } from '../ports/sync-state-store';
import type { WorkQueue } from '../ports/work-queue';
import { feedConnectUrl } from './syncer-feed-protocol';

/**
 * The syncer's view of one SyncTarget (docs/virtual-workspace.md): what a `tmc syncer` holding that SyncTarget's
 * credentials may read and write. Every operation is scoped to (workspace, cluster) of the credentials: a ref in
 * another workspace, a record of another cluster, or an object not placed on this cluster is refused (403).
 */
export interface SyncerViewDeps {
  syncState: SyncStateStore;
  kube: KubeConnector;
  health: HealthStore;
  statusQueue: WorkQueue<StatusMessage>;
  /** Receives a `cluster-change` when a heartbeat brings the cluster out of Unhealthy. */
  placementQueue?: WorkQueue<PlacementMessage>;
  /** The workspace's decisions: when the cluster comes back, objects not fully scheduled are placed again (as health-probe does). */
  decisions?: Pick<DecisionStore, 'listByWorkspace'>;
  /** The change feed's URL; {@link SyncerView.info} answers it with this SyncTarget in its query. */
  feedUrl?: string;
  now?: Clock;
}

/** Who is asking: the SyncTarget whose credentials authenticated the request. */
export interface SyncerScope {
  workspace: string;
  cluster: string;
}

/** Refused by the view's rules (answered 403): the request names something outside the credentials' SyncTarget. */
export class SyncerScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncerScopeError';
  }
}

/** What `GET /syncers/{workspace}/{cluster}` answers: what the syncer checks before it starts. */
export const SyncTargetInfoSchema = z.object({
  name: z.string(),
  uid: z.string().optional(),
  syncMode: SyncModeSchema,
  /** The change feed's WebSocket URL (absent: the syncer relies on its resync alone). */
  feedUrl: z.string().optional(),
});
export type SyncTargetInfo = z.infer<typeof SyncTargetInfoSchema>;

/** One page of the work placed on the SyncTarget, in object-key order; `next` resumes after the last item. */
export const WorkPageSchema = z.object({ items: z.array(SyncRecordSchema), next: z.string().optional() });
export type WorkPage = z.infer<typeof WorkPageSchema>;

export const ReadRequestSchema = z.object({
  decisions: z.array(ObjectRefSchema).max(100),
  records: z.array(ObjectRefSchema).max(100),
});
export const StatusReportSchema = z.object({
  ref: ObjectRefSchema,
  resourceVersion: z.string().optional(),
  status: z.record(z.string(), z.unknown()),
  traceId: z.string().optional(),
});
export type StatusReport = z.infer<typeof StatusReportSchema>;
export const FinalizerReleaseSchema = z.object({ ref: ObjectRefSchema, resourceVersion: z.string().optional() });

const MAX_PAGE = 500;

export class SyncerView {
  constructor(
    private readonly deps: SyncerViewDeps,
    private readonly scope: SyncerScope,
  ) {}

  private inWorkspace(ref: ObjectRef): void {
    if (ref.workspace !== this.scope.workspace)
      throw new SyncerScopeError(`${describeRef(ref)} is outside workspace ${this.scope.workspace}`);
  }

  /** Whether `ref` is this cluster's work: placed here by its decision, or carrying a sync item for this cluster. */
  private async placedHere(ref: ObjectRef): Promise<boolean> {
    const [decision, record] = await Promise.all([
      this.deps.syncState.decision(ref),
      this.deps.syncState.get(ref, this.scope.cluster),
    ]);
    return record !== undefined || (decision?.clusters.some((c) => c.name === this.scope.cluster) ?? false);
  }

  async info(): Promise<SyncTargetInfo> {
    const kcp = await this.deps.kube.kcp(this.scope.workspace);
    const object = await kcp.get({
      group: SYNC_TARGET_GROUP,
      version: SYNC_TARGET_VERSION,
      resource: SYNC_TARGET_RESOURCE,
      name: this.scope.cluster,
    });
    if (object === undefined)
      throw new SyncerScopeError(`SyncTarget ${this.scope.cluster} does not exist in ${this.scope.workspace}`);
    const spec = z
      .looseObject({
        syncMode: SyncModeSchema.optional(),
        workloadCluster: z.looseObject({ credentials: z.unknown().optional() }),
      })
      .parse(object.spec);
    const mode: SyncMode = syncModeOf(spec);
    return {
      name: this.scope.cluster,
      ...(object.metadata.uid !== undefined ? { uid: object.metadata.uid } : {}),
      syncMode: mode,
      ...(this.deps.feedUrl
        ? {
            feedUrl: feedConnectUrl(this.deps.feedUrl, {
              workspace: this.scope.workspace,
              syncTarget: this.scope.cluster,
            }),
          }
        : {}),
    };
  }

  /** The SyncTarget's items of this workspace, not deleted, paged by object key. */
  async work(options: { after?: string; limit?: number }): Promise<WorkPage> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), MAX_PAGE);
    const records = await this.deps.syncState.listForCluster(this.scope.cluster, {
      limit,
      ...(options.after !== undefined ? { after: options.after } : {}),
    });
    const items = records.filter((r) => r.ref.workspace === this.scope.workspace && r.state !== 'deleted');
    const last = records[records.length - 1];
    return { items, ...(records.length >= limit && last !== undefined ? { next: objectKey(last.ref) } : {}) };
  }

  /** Decisions and this cluster's records, strongly consistent (the syncer's `readMany`, `get` and `decision`). */
  async read(
    request: z.infer<typeof ReadRequestSchema>,
  ): Promise<{ decisions: Array<[string, DecisionView | null]>; records: Array<[string, SyncRecord | null]> }> {
    for (const ref of [...request.decisions, ...request.records]) this.inWorkspace(ref);
    const reads = await this.deps.syncState.readMany({
      decisions: request.decisions,
      records: request.records.map((ref) => ({ ref, cluster: this.scope.cluster })),
    });
    return {
      decisions: [...reads.decisions].map(([key, value]) => [key, value ?? null]),
      records: [...reads.records].map(([key, value]) => [key, value ?? null]),
    };
  }

  /** Records what the syncer applied, exactly as sync-apply records it (the store's conditional put). */
  async putRecord(record: SyncRecord): Promise<void> {
    this.inWorkspace(record.ref);
    if (record.cluster !== this.scope.cluster)
      throw new SyncerScopeError(
        `A record of cluster ${record.cluster} cannot be written with ${this.scope.cluster}'s credentials`,
      );
    await this.deps.syncState.put(record);
  }

  /** The kcp object, when it is this cluster's work (or the SyncTarget itself); undefined when kcp has none. */
  async object(ref: ObjectRef): Promise<KubeObject | undefined> {
    this.inWorkspace(ref);
    const ownSyncTarget =
      ref.group === SYNC_TARGET_GROUP && ref.resource === SYNC_TARGET_RESOURCE && ref.name === this.scope.cluster;
    if (!ownSyncTarget && !(await this.placedHere(ref)))
      throw new SyncerScopeError(`${describeRef(ref)} is not placed on ${this.scope.cluster}`);
    const kcp = await this.deps.kube.kcp(this.scope.workspace);
    return kcp.get(ref);
  }

  /**
   * The syncer's request to release tmc's finalizer after removing its copy. Released only when every cluster's copy
   * is gone (the view reads all of them; the syncer sees only its own), else the object is answered unchanged and the
   * last cluster to finish releases it.
   */
  async releaseFinalizer(ref: ObjectRef, resourceVersion: string | undefined): Promise<KubeObject | undefined> {
    const object = await this.object(ref);
    if (!object?.metadata.deletionTimestamp || !object.metadata.finalizers?.includes(SYNC_FINALIZER)) return object;
    const remaining = (await this.deps.syncState.listForObject(ref)).filter((r) => r.state !== 'deleted');
    if (remaining.length > 0) return object;
    const kcp = await this.deps.kube.kcp(this.scope.workspace);
    const finalizers = object.metadata.finalizers.filter((f) => f !== SYNC_FINALIZER);
    return kcp.mergePatch(ref, {
      metadata: { finalizers, resourceVersion: resourceVersion ?? object.metadata.resourceVersion },
    });
  }

  /** Downstream status of this cluster's copy, onto the same queue the status webhook feeds (status-up). */
  async reportStatus(report: StatusReport): Promise<void> {
    this.inWorkspace(report.ref);
    if ((await this.deps.syncState.get(report.ref, this.scope.cluster)) === undefined)
      throw new SyncerScopeError(`${describeRef(report.ref)} has no copy on ${this.scope.cluster}`);
    const now = (this.deps.now ?? systemClock)();
    await this.deps.statusQueue.send([
      {
        type: 'status',
        ref: report.ref,
        cluster: this.scope.cluster,
        // The syncer reports the objects its watch delivers: their version as read, after the status write.
        ...(report.resourceVersion !== undefined
          ? { resourceVersion: report.resourceVersion, resourceVersionOf: 'read' as const }
          : {}),
        status: report.status,
        trace: { traceId: report.traceId ?? crypto.randomUUID(), enqueuedAt: new Date(now).toISOString() },
      },
    ]);
  }

  /** The syncer is alive: one observation in the cluster's health, judged by the same rules as a probe. */
  async heartbeat(): Promise<void> {
    const now = (this.deps.now ?? systemClock)();
    const change = await recordClusterObservation(
      this.deps.health,
      this.scope.cluster,
      { at: new Date(now).toISOString(), ok: true, source: 'syncer' },
      { workspace: this.scope.workspace },
    );
    if (!change.unhealthyChanged || this.deps.placementQueue === undefined) return;
    const message = clusterChangeMessage(this.scope.workspace, this.scope.cluster, now);
    const partial =
      change.next.state !== 'Unhealthy' && this.deps.decisions !== undefined
        ? await partialDecisionMessages(this.deps.decisions, this.scope.workspace, message.trace, 1000)
        : [];
    await this.deps.placementQueue.send([message, ...partial]);
  }
}

/** The credential subject of a SyncTarget's syncer: what its digests are stored under. */
export function syncerSubject(workspace: string, cluster: string): string {
  return `${workspace}|${cluster}`;
}
