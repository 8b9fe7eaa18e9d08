import { systemClock, type Clock } from '../ports/clock';
import { silentLog, type Log } from '../observability/log';
import pLimit from 'p-limit';
import { z } from 'zod';
import { ConditionSchema } from '../api/crds/common';
import {
  SYNC_TARGET_GROUP,
  SYNC_TARGET_RESOURCE,
  SYNC_TARGET_VERSION,
  SyncModeSchema,
  syncModeOf,
  type SyncMode,
} from '../api/crds/sync-target';
import { asTmcError } from '../errors/tmc-error';
import type { DecisionStore } from '../ports/decision-store';
import type { HealthStore } from '../ports/health-store';
import type { KubeClient, KubeConnector } from '../ports/kube-client';
import { noMetrics, type Metrics } from '../ports/telemetry';
import type { WorkQueue } from '../ports/work-queue';
import type { HealthObservation, HealthState } from './cluster-health';
import { clusterChangeMessage } from './cluster-change-message';
import { partialDecisionMessages } from './cluster-returned';
import { recordClusterObservation, type ClusterHealthChange } from './record-observation';
import type { ClusterThresholds } from './rules';
import { locationInstances, updateLocationStatuses } from './location-status';
import { CONDITION_READY, desiredConditions, planSyncTargetStatus } from './sync-target-status';

/** The part of a SyncTarget the probe reads. Loose: the full schema lives in lib/api/crds and may be stricter. */
const ProbedSyncTargetSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().min(1), deletionTimestamp: z.string().optional() }),
  spec: z
    .looseObject({
      syncMode: SyncModeSchema.optional(),
      workloadCluster: z.looseObject({ credentials: z.unknown().optional() }),
    })
    .optional(),
  status: z
    .looseObject({
      conditions: z.array(ConditionSchema).optional(),
      lastSyncerHeartbeatTime: z.string().optional(),
      syncMode: z.string().optional(),
    })
    .optional(),
});

/** How long a pull-mode SyncTarget may go without a syncer heartbeat before each probe counts a failure. */
export const DEFAULT_SYNCER_STALE_AFTER_SECONDS = 300;

const SYNC_TARGETS = { group: SYNC_TARGET_GROUP, version: SYNC_TARGET_VERSION, resource: SYNC_TARGET_RESOURCE };

export interface ProbeClustersDeps {
  connector: KubeConnector;
  store: HealthStore;
  /** Receives a `cluster-change` message when a cluster enters or leaves Unhealthy. */
  placementQueue?: WorkQueue;
  /**
   * The SyncTargets placement has mirrored for a workspace. When given, every run compares them with kcp and sends a
   * `cluster-change` for each difference: a SyncTarget deleted in kcp (no webhook reports deletes, so its workloads
   * drain only this way) or one that existed before tmc's webhooks were installed (never mirrored).
   */
  mirrored?: (workspace: string) => Promise<string[]>;
  /**
   * The workspace's decisions. When given, a cluster leaving Unhealthy also sends a `cluster-change` for each object
   * whose decision is not fully scheduled (at most `partialLimit`, default 1000), so it is placed there again. The
   * recovery sweep re-asks the rest, and any whose message was lost, with a cursor (lib/recovery/partial.ts).
   */
  decisions?: Pick<DecisionStore, 'listByWorkspace'>;
  partialLimit?: number;
  /** Workspaces whose SyncTargets tmc serves (`TMC_WORKSPACES`). */
  workspaces: string[];
  thresholds?: ClusterThresholds;
  heartbeatIntervalSeconds?: number;
  /**
   * A pull-mode SyncTarget is never called: its syncer's heartbeats (recorded by the virtual workspace) are its
   * observations, and a probe finding none for this long records a failure (default {@link DEFAULT_SYNCER_STALE_AFTER_SECONDS}).
   */
  syncerStaleAfterSeconds?: number;
  /** Probes in flight at once: bounded so one run does not open a connection to every cluster at the same time. */
  concurrency?: number;
  now?: Clock;
  logger?: Log;
  metrics?: Metrics;
}

export interface ProbeRunReport {
  probed: number;
  /** SyncTarget and Location status writes. */
  statusWrites: number;
  placementMessages: number;
  transitions: Array<{ workspace: string; cluster: string; from?: HealthState; to: HealthState }>;
  /** tmc-side failures (kcp unreachable, state table errors); a cluster being down is not one of them. */
  failures: Array<{ workspace: string; cluster?: string; message: string }>;
}

const STATE_GAUGE: Record<HealthState, number> = { Healthy: 0, Degraded: 1, Unhealthy: 2, Unknown: 3 };

/**
 * A pull-mode cluster's observation: none while its syncer's last heartbeat is recent (the heartbeat was the
 * observation), a failure once it is older than `staleAfterSeconds`. tmc never calls the cluster.
 */
async function heartbeatObservation(
  store: HealthStore,
  name: string,
  now: number,
  staleAfterSeconds: number,
): Promise<HealthObservation | undefined> {
  const health = await store.getCluster(name);
  const beats = (health?.history ?? []).filter((o) => o.source === 'syncer' && o.ok);
  const last = beats[beats.length - 1];
  const lastAt = last === undefined ? undefined : Date.parse(last.at);
  if (lastAt !== undefined && !Number.isNaN(lastAt) && now - lastAt < staleAfterSeconds * 1000) return undefined;
  const since = last === undefined ? 'none received yet' : `last at ${last.at}`;
  return {
    at: new Date(now).toISOString(),
    ok: false,
    source: 'syncer',
    detail: `No heartbeat from the syncer for ${staleAfterSeconds}s (${since})`,
  };
}

/** Probes a cluster's /readyz; failing to even build a client (credentials, endpoint) is a failed probe, not a crash. */
async function probe(
  connector: KubeConnector,
  workspace: string,
  name: string,
  now: Clock,
): Promise<HealthObservation> {
  const at = new Date(now()).toISOString();
  let client: KubeClient;
  try {
    client = await connector.cluster(workspace, name);
  } catch (err) {
    return { at, ok: false, source: 'probe', detail: asTmcError(err).message.slice(0, 300) };
  }
  const result = await client.ready();
  return {
    at,
    ok: result.ok,
    latencyMs: result.latencyMs,
    source: 'probe',
    ...(result.detail ? { detail: result.detail.slice(0, 300) } : {}),
  };
}

/**
 * One run of health-probe: for every workspace, list SyncTargets from kcp, probe each cluster (bounded concurrency),
 * record the observation in `CLUSTER#<name>/HEALTH`, patch the SyncTarget's status only when the plan says so, and
 * enqueue a placement message when a cluster enters or leaves Unhealthy. One cluster's failure never stops the rest.
 */
export async function probeClusters(deps: ProbeClustersDeps): Promise<ProbeRunReport> {
  const now = deps.now ?? systemClock;
  const logger = deps.logger ?? silentLog;
  const metrics = deps.metrics ?? noMetrics;
  const limit = pLimit(deps.concurrency ?? 8);
  const report: ProbeRunReport = { probed: 0, statusWrites: 0, placementMessages: 0, transitions: [], failures: [] };
  const byState: Record<HealthState, number> = { Healthy: 0, Degraded: 0, Unhealthy: 0, Unknown: 0 };

  /** `ready` receives each probed SyncTarget's Ready as this run decides it, for the workspace's Locations. */
  const probeOne = async (
    kcp: KubeClient,
    workspace: string,
    raw: unknown,
    ready: Map<string, boolean>,
  ): Promise<void> => {
    const parsed = ProbedSyncTargetSchema.safeParse(raw);
    if (!parsed.success) {
      report.failures.push({
        workspace,
        message: `A SyncTarget in ${workspace} is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      });
      return;
    }
    const target = parsed.data;
    const name = target.metadata.name;
    if (target.metadata.deletionTimestamp !== undefined) return;
    const mode: SyncMode | undefined = target.spec === undefined ? undefined : syncModeOf(target.spec);
    try {
      const observation =
        mode === 'Pull'
          ? await heartbeatObservation(
              deps.store,
              name,
              now(),
              deps.syncerStaleAfterSeconds ?? DEFAULT_SYNCER_STALE_AFTER_SECONDS,
            )
          : await probe(deps.connector, workspace, name, now);
      report.probed += 1;
      const change =
        observation !== undefined
          ? await recordClusterObservation(deps.store, name, observation, { thresholds: deps.thresholds, workspace })
          : await currentHealth(deps.store, name);
      if (change === undefined) return;
      metrics.gauge('tmc_cluster_health_state', { cluster: name }, STATE_GAUGE[change.next.state]);
      byState[change.next.state] += 1;
      if (change.stateChanged) {
        report.transitions.push({ workspace, cluster: name, from: change.previous?.state, to: change.next.state });
        logger.info(`Cluster ${name} is ${change.next.state}`, {
          workspace,
          cluster: name,
          from: change.previous?.state,
          reason: change.next.reason,
        });
      }
      ready.set(
        name,
        desiredConditions(change.next).some((c) => c.type === CONDITION_READY && c.status === 'True'),
      );
      const plan = planSyncTargetStatus(target.status, change.next, now(), deps.heartbeatIntervalSeconds, mode);
      if (plan.patch !== undefined) {
        logger.info(`Updating SyncTarget ${name} status`, {
          workspace,
          cluster: name,
          conditionsChanged: plan.conditionsChanged,
        });
        await kcp.patchStatus({ ...SYNC_TARGETS, name }, plan.patch);
        report.statusWrites += 1;
      }
      if (change.unhealthyChanged && deps.placementQueue !== undefined) {
        const message = clusterChangeMessage(workspace, name, now());
        const partial =
          change.next.state !== 'Unhealthy' && deps.decisions !== undefined
            ? await partialDecisionMessages(deps.decisions, workspace, message.trace, deps.partialLimit ?? 1000)
            : [];
        if (partial.length)
          logger.info(
            `Cluster ${name} is back: asking placement again about ${partial.length} object(s) not fully scheduled`,
            { workspace, cluster: name },
          );
        await deps.placementQueue.send([message, ...partial]);
        report.placementMessages += 1 + partial.length;
      }
    } catch (err) {
      const error = asTmcError(err);
      logger.error(`Probing cluster ${name} failed`, { workspace, cluster: name, error: error.toJSON() });
      report.failures.push({ workspace, cluster: name, message: error.message });
    }
  };

  // Every SyncTarget name of every workspace, while every list succeeded: what `forgetUnregistered` may trust.
  const registered = new Set<string>();
  let listedAll = true;
  await Promise.all(
    deps.workspaces.map(async (workspace) => {
      let kcp: KubeClient;
      let targets: unknown[];
      try {
        kcp = await deps.connector.kcp(workspace);
        targets = await kcp.list(SYNC_TARGETS);
      } catch (err) {
        const error = asTmcError(err);
        logger.error(`Listing SyncTargets in ${workspace} failed`, { workspace, error: error.toJSON() });
        report.failures.push({ workspace, message: error.message });
        listedAll = false;
        return;
      }
      for (const name of syncTargetNames(targets)) registered.add(name);
      if (registered.has('')) listedAll = false;
      const ready = new Map<string, boolean>();
      await Promise.all([
        ...targets.map((target) => limit(() => probeOne(kcp, workspace, target, ready))),
        reconcileMirror(deps, workspace, targets, now, report, logger),
      ]);
      await updateLocations(kcp, workspace, targets, ready, report, logger);
    }),
  );
  for (const state of Object.keys(byState) as HealthState[]) metrics.gauge('tmc_clusters', { state }, byState[state]);
  if (listedAll) await forgetUnregistered(deps.store, registered, report, logger);
  return report;
}

/** Location status (`kubectl get locations`: AVAILABLE/INSTANCES) from the SyncTargets this run listed and probed. */
async function updateLocations(
  kcp: KubeClient,
  workspace: string,
  targets: unknown[],
  ready: ReadonlyMap<string, boolean>,
  report: ProbeRunReport,
  logger: Log,
): Promise<void> {
  const instances = locationInstances(targets, ready);
  if (instances === undefined) return; // a malformed SyncTarget, already reported: no counts from part of the list
  try {
    const result = await updateLocationStatuses(kcp, instances);
    report.statusWrites += result.writes;
    for (const failure of result.failures) report.failures.push({ workspace, message: failure.message });
  } catch (err) {
    const error = asTmcError(err);
    logger.error(`Updating Location status in ${workspace} failed`, { workspace, error: error.toJSON() });
    report.failures.push({ workspace, message: error.message });
  }
}

/** The SyncTargets' names in a list; '' for one whose name cannot be read (then nothing may be judged gone). */
function syncTargetNames(targets: unknown[]): string[] {
  return targets.map((raw) => {
    const parsed = ProbedSyncTargetSchema.safeParse(raw);
    return parsed.success ? parsed.data.metadata.name : '';
  });
}

/**
 * Removes the health of clusters no workspace registers any more (a deleted SyncTarget): nothing probes them, so
 * /health and the metrics would count them forever as they last were. Only after every workspace's list succeeded,
 * and each delete is conditional on the version read, so an observation recorded meanwhile keeps the item.
 */
async function forgetUnregistered(
  store: HealthStore,
  registered: ReadonlySet<string>,
  report: ProbeRunReport,
  logger: Log,
): Promise<void> {
  try {
    for (const health of await store.listClusters()) {
      if (registered.has(health.cluster)) continue;
      logger.info(`Cluster ${health.cluster} is no longer registered: forgetting its health`, {
        cluster: health.cluster,
      });
      await store.deleteCluster(health.cluster, health.version);
    }
  } catch (err) {
    const error = asTmcError(err);
    logger.error('Forgetting the health of unregistered clusters failed', { error: error.toJSON() });
    report.failures.push({ workspace: '', message: error.message });
  }
}

/** A pull cluster's health as its heartbeats left it: no transition (the heartbeat's own recording reported any). */
async function currentHealth(store: HealthStore, name: string): Promise<ClusterHealthChange | undefined> {
  const health = await store.getCluster(name);
  return health === undefined
    ? undefined
    : { previous: health, next: health, stateChanged: false, unhealthyChanged: false };
}

/** Sends a `cluster-change` for each SyncTarget mirrored but gone from kcp, or in kcp but never mirrored. */
async function reconcileMirror(
  deps: ProbeClustersDeps,
  workspace: string,
  targets: unknown[],
  now: Clock,
  report: ProbeRunReport,
  logger: Log,
): Promise<void> {
  if (deps.mirrored === undefined || deps.placementQueue === undefined) return;
  try {
    const inKcp = new Set<string>();
    for (const raw of targets) {
      const parsed = ProbedSyncTargetSchema.safeParse(raw);
      if (parsed.success && parsed.data.metadata.deletionTimestamp === undefined) inKcp.add(parsed.data.metadata.name);
    }
    const mirrored = new Set(await deps.mirrored(workspace));
    const gone = [...mirrored].filter((name) => !inKcp.has(name));
    const unmirrored = [...inKcp].filter((name) => !mirrored.has(name));
    if (gone.length + unmirrored.length === 0) return;
    if (gone.length)
      logger.info(`SyncTargets ${gone.join(', ')} are gone from ${workspace}: asking placement to drain them`, {
        workspace,
        clusters: gone,
      });
    if (unmirrored.length)
      logger.info(
        `SyncTargets ${unmirrored.join(', ')} in ${workspace} are not mirrored yet: asking placement to mirror them`,
        { workspace, clusters: unmirrored },
      );
    await deps.placementQueue.send(
      [...gone, ...unmirrored].map((name) => clusterChangeMessage(workspace, name, now())),
    );
    report.placementMessages += gone.length + unmirrored.length;
  } catch (err) {
    const error = asTmcError(err);
    logger.error(`Comparing SyncTargets in ${workspace} with placement's mirror failed`, {
      workspace,
      error: error.toJSON(),
    });
    report.failures.push({ workspace, message: error.message });
  }
}

/** `TMC_WORKSPACES`: comma-separated workspace paths; `root:default` when unset. */
export function parseWorkspaces(value: string | undefined): string[] {
  const list = (value ?? '')
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
  return list.length > 0 ? [...new Set(list)] : ['root:default'];
}
