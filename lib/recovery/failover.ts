import type { PlacementMessage, SyncMessage } from '../api/messages';
import { describeRef, objectKey } from '../api/object-ref';
import { backoffSeconds, type BackoffPolicy } from '../errors/backoff';
import type { ClusterInfo } from '../placement/types';
import type { SyncRecord } from '../ports/sync-state-store';
import { act, newTrace, type RecoverySweepDeps, type RecoverySweepReport } from './deps';
import { copyReady } from './rules';

/** A failover that found nowhere to go is asked again with this backoff (placement decides; the sweep only asks). */
const FAILOVER_RETRY: BackoffPolicy = { baseSeconds: 60, capSeconds: 1800 };

const isWorkload = (r: SyncRecord): boolean => r.state !== 'deleted' && r.ref.resource !== 'namespaces';

/**
 * Asks placement to re-place every object still decided onto an evacuating cluster (reason `failover`; the engine
 * drops the cluster past evictAfter or an untolerated NoExecute taint, and picks the replacement within the
 * Placement). Objects already moved away but still on the cluster are recorded as pending cleanups.
 */
export async function evacuate(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  cluster: ClusterInfo,
  records: SyncRecord[],
  why: string,
): Promise<void> {
  const now = deps.now();
  const moves: PlacementMessage[] = [];
  for (const record of records.filter(isWorkload)) {
    const decision = await deps.syncState.decision(record.ref);
    if (!decision) continue;
    if (!decision.clusters.some((c) => c.name === cluster.name)) {
      await deps.store.deferCleanup({ cluster: cluster.name, ref: record.ref, since: new Date(now).toISOString() });
      continue;
    }
    const key = `failover|${cluster.name}|${objectKey(record.ref)}`;
    const retry = await deps.store.retryState(key);
    if (retry && retry.nextAt > now) continue;
    const attempts = (retry?.attempts ?? 0) + 1;
    const delay = backoffSeconds(attempts, { policy: FAILOVER_RETRY, atLeastBase: true });
    await deps.store.putRetryState(key, {
      attempts,
      nextAt: now + delay * 1000,
      lastAt: new Date(now).toISOString(),
      reason: why,
    });
    moves.push({ type: 'placement', ref: record.ref, reason: 'failover', trace: newTrace(now) });
    // Placement keeps an object whose failover finds nowhere to go where it runs (unscheduled): say so, and ask again.
    const stays =
      decision.scheduled === false
        ? `; no other cluster fits yet, so it stays on ${cluster.name}: asking placement again`
        : '';
    await act(deps, report, {
      action: 'failover',
      outcome: 'enqueued',
      why: `${why}${stays}`,
      workspace: record.ref.workspace,
      cluster: cluster.name,
      ref: record.ref,
    });
  }
  if (moves.length) {
    deps.log.warn(`Failing over ${moves.length} object(s) from ${cluster.name}`, {
      cluster: cluster.name,
      reason: why,
    });
    await deps.placementQueue.send(moves);
  }
}

/**
 * Removes copies left on a cluster after their object failed over, once it is safe: the cluster answers again (not
 * Unhealthy) and every cluster the object now runs on has a ready copy. Until then the old copy keeps serving.
 * Returns how many cleanups were pending at the start.
 */
export async function cleanUp(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  cluster: ClusterInfo,
): Promise<number> {
  const now = deps.now();
  const pending = await deps.store.pendingCleanups(cluster.name, deps.settings.perClusterLimit);
  const deletes: SyncMessage[] = [];
  for (const p of pending) {
    const ctx = { workspace: p.ref.workspace, cluster: cluster.name, ref: p.ref };
    const record = await deps.syncState.get(p.ref, cluster.name);
    if (!record || record.state === 'deleted') {
      await deps.store.dropCleanup(cluster.name, p.ref);
      if (p.sentAt)
        await act(deps, report, {
          ...ctx,
          action: 'cleanup',
          outcome: 'succeeded',
          why: `${describeRef(p.ref)} moved away from ${cluster.name} and its copy there is removed`,
        });
      continue;
    }
    const decision = await deps.decisions.get(p.ref);
    if (decision?.clusters.some((c) => c.name === cluster.name)) {
      await deps.store.dropCleanup(cluster.name, p.ref);
      await act(deps, report, {
        ...ctx,
        action: 'cleanup',
        outcome: 'skipped',
        why: `${describeRef(p.ref)} is placed on ${cluster.name} again: its copy stays`,
      });
      continue;
    }
    if (cluster.health === 'Unhealthy') continue; // unreachable: nothing to delete with, and the copy may still serve
    if (decision && decision.reason !== 'Deleted' && decision.clusters.length === 0) {
      // Nowhere else to run: the copy stays. The cluster answers again, so ask placement whether it may return.
      await deps.placementQueue.send([{ type: 'placement', ref: p.ref, reason: 'failover', trace: newTrace(now) }]);
      continue;
    }
    if (decision && decision.reason !== 'Deleted' && !(await replacementReady(deps, decision))) continue;
    if (p.sentAt && now - Date.parse(p.sentAt) < deps.settings.cleanupResendSeconds * 1000) continue;
    deletes.push({
      type: 'sync',
      ref: p.ref,
      cluster: cluster.name,
      action: 'delete',
      decisionVersion: Math.max(decision?.decisionVersion ?? 0, record.decisionVersion),
      trace: newTrace(now),
    });
    await deps.store.markCleanupSent(cluster.name, p.ref, new Date(now).toISOString());
    const where = decision?.clusters.map((c) => c.name).join(', ');
    await act(deps, report, {
      ...ctx,
      action: 'cleanup',
      outcome: 'sent',
      why: where
        ? `${describeRef(p.ref)} is ready on ${where}: removing the copy left on ${cluster.name}`
        : `${describeRef(p.ref)} is deleted: removing the copy left on ${cluster.name}`,
    });
  }
  if (deletes.length) {
    deps.log.info(`Removing ${deletes.length} copy(ies) left on ${cluster.name} after failover`, {
      cluster: cluster.name,
    });
    await deps.syncQueue.send(deletes);
  }
  return pending.length;
}

async function replacementReady(
  deps: RecoverySweepDeps,
  decision: { ref: { kind: string }; clusters: Array<{ name: string; replicas?: number }> } & {
    ref: SyncRecord['ref'];
  },
): Promise<boolean> {
  const [records, statuses] = await Promise.all([
    deps.syncState.listForObject(decision.ref),
    deps.statuses.listForObject(decision.ref),
  ]);
  return decision.clusters.every((c) =>
    copyReady(
      decision.ref.kind,
      records.find((r) => r.cluster === c.name),
      statuses.find((s) => s.cluster === c.name)?.status,
      c.replicas,
    ),
  );
}
