import { z } from 'zod';
import type { SyncMessage } from '../api/messages';
import { describeRef, objectKey } from '../api/object-ref';
import { backoffSeconds, type BackoffPolicy } from '../errors/backoff';
import type { ClusterInfo } from '../placement/types';
import type { KubeObject } from '../ports/kube-client';
import type { StoredDecision } from '../ports/decision-store';
import { syncRecordKey, type SyncRecord } from '../ports/sync-state-store';
import { placementFor } from '../sync/sync-object';
import { downstreamHash, toDownstream } from '../sync/transform';
import { contentKeyFor } from '../kube/canonical-hash';
import { contentHash } from '../placement/content-hash';
import { act, newTrace, queueHolds, type RecoverySweepDeps, type RecoverySweepReport } from './deps';
import { isStuck } from './rules';
import { heldInWorkspace } from './holds';
import { removeStrayCopies, strayCopies } from './stray-copies';
import { isSharedScope, tenantNeutral } from '../sync/shared-ownership';

/** Stuck syncs are re-sent at most this often per pair, doubling: a cluster that keeps failing is not flooded. */
const STUCK_RETRY: BackoffPolicy = { baseSeconds: 60, capSeconds: 3600 };

function apply(record: SyncRecord, decisionVersion: number, now: number): SyncMessage {
  return {
    type: 'sync',
    ref: record.ref,
    cluster: record.cluster,
    action: 'apply',
    decisionVersion,
    trace: newTrace(now),
  };
}

/** Re-enqueues sync items whose desired state has not been applied for too long, with per-pair backoff. */
export async function resyncStuck(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  cluster: ClusterInfo,
  records: SyncRecord[],
): Promise<void> {
  const now = deps.now();
  const messages: SyncMessage[] = [];
  for (const record of records) {
    if (!isStuck(record, now, deps.settings.stuckAfterSeconds)) continue;
    const decision = await deps.syncState.decision(record.ref);
    if (!decision?.clusters.some((c) => c.name === cluster.name)) continue; // moved away: cleanup's business
    const key = `stuck|${cluster.name}|${objectKey(record.ref)}`;
    const retry = await deps.store.retryState(key);
    if (retry && retry.nextAt > now) continue;
    const attempts = (retry?.attempts ?? 0) + 1;
    const why = `${describeRef(record.ref)} has been ${record.state} on ${cluster.name} since ${record.updatedAt}${record.lastError ? ` (${record.lastError.message})` : ''}`;
    await deps.store.putRetryState(key, {
      attempts,
      nextAt: now + backoffSeconds(attempts, { policy: STUCK_RETRY, atLeastBase: true }) * 1000,
      lastAt: new Date(now).toISOString(),
      reason: why,
    });
    messages.push(apply(record, decision.decisionVersion, now));
    await act(deps, report, {
      action: 'resync-stuck',
      outcome: 'enqueued',
      why,
      workspace: record.ref.workspace,
      cluster: cluster.name,
      ref: record.ref,
    });
  }
  if (messages.length) await deps.syncQueue.send(messages);
}

/**
 * True when every field of `desired` has the same value in `live`. Servers add defaults and status, so equality
 * would report drift on every object; a field tmc set and someone changed (replicas, an image, a label) is found.
 */
export function containsDesired(live: unknown, desired: unknown): boolean {
  if (Array.isArray(desired))
    return (
      Array.isArray(live) && live.length === desired.length && desired.every((d, i) => containsDesired(live[i], d))
    );
  if (desired !== null && typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
    const l = new Map(Object.entries(live));
    return Object.entries(desired).every(([k, v]) => containsDesired(l.get(k), v));
  }
  return live === desired;
}

const JsonObject = z.record(z.string(), z.unknown());

/**
 * Drift: a few applied objects per cluster per sweep (rotating through the page) are read live and compared with
 * what tmc applied. A record keeps only the hash of what was applied, so the copy is compared with the kcp object
 * rebuilt for this cluster (`toDownstream` with the decision) only when that rebuild hashes to the record's
 * `appliedHash`. A changed or deleted copy is then marked `driftReported` (so sync-apply applies even though the hash
 * matches) and re-enqueued. A rebuild that hashes otherwise is a change tmc has not applied to this pair yet, not
 * drift: its messages are on their way (an update in flight), or lost, which {@link missedApply} judges. Secrets are
 * skipped: the sweep never reads Secret data.
 */
export async function repairDrift(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  cluster: ClusterInfo,
  records: SyncRecord[],
): Promise<void> {
  const candidates = records.filter(
    (r) => r.state === 'applied' && !r.driftReported && r.ref.kind !== 'Secret' && r.ref.resource !== 'namespaces',
  );
  if (candidates.length === 0 || deps.settings.driftSamples <= 0) return;
  const now = deps.now();
  const start = Math.floor(now / 60_000) * deps.settings.driftSamples;
  const sample = Array.from(
    { length: Math.min(deps.settings.driftSamples, candidates.length) },
    (_, i) => candidates[(start + i) % candidates.length],
  );
  const messages: SyncMessage[] = [];
  for (const record of sample) {
    const ref = record.ref;
    const [kcp, client, decision] = await Promise.all([
      deps.kube.kcp(ref.workspace),
      deps.kube.cluster(ref.workspace, cluster.name),
      deps.syncState.decision(ref),
    ]);
    if (!decision?.clusters.some((c) => c.name === cluster.name)) continue;
    const source = await kcp.get(ref);
    if (!source || source.metadata.deletionTimestamp) continue;
    const desired: KubeObject = toDownstream(source, ref, placementFor(decision, cluster.name));
    if (downstreamHash(desired, await contentKeyFor(desired, deps.contentKey)) !== record.appliedHash) {
      const why = await missedApply(deps, record, source, now);
      if (why === undefined) continue;
      messages.push(apply(record, decision.decisionVersion, now));
      await act(deps, report, {
        action: 'resync-unsynced',
        outcome: 'enqueued',
        why,
        workspace: ref.workspace,
        cluster: cluster.name,
        ref,
      });
      continue;
    }
    const live = await client.get({
      group: ref.group,
      version: ref.version,
      resource: ref.resource,
      namespace: desired.metadata.namespace,
      name: ref.name,
    });
    // A shared cluster-scoped copy carries the ownership labels of one of its workspaces: compare the content only.
    const shared = isSharedScope(ref);
    const { status: _s, ...want } = shared ? tenantNeutral(desired) : desired;
    if (live && containsDesired(JsonObject.parse(shared ? tenantNeutral(live) : live), want)) continue;
    await deps.syncState.put({ ...record, driftReported: true, updatedAt: new Date(now).toISOString() });
    messages.push(apply(record, decision.decisionVersion, now));
    await act(deps, report, {
      action: 'drift',
      outcome: 'enqueued',
      why: live
        ? `${describeRef(ref)} on ${cluster.name} differs from what tmc applied: re-applying`
        : `${describeRef(ref)} is missing on ${cluster.name}: re-applying`,
      workspace: ref.workspace,
      cluster: cluster.name,
      ref,
    });
  }
  if (messages.length) await deps.syncQueue.send(messages);
}

/**
 * Why an applied pair whose copy is not the kcp object's current version lost its apply, or undefined while the apply
 * may still be on its way. Lost only when placement decided this very version (its content hash and generation) longer
 * than the anti-entropy grace ago and the generation the pair applied is the current one: a pair behind in generation
 * is {@link decisionGaps}'s, a decision behind kcp is the lost-admission pass's (lib/recovery/unplaced.ts). What is
 * left is a change without a new generation (ConfigMap data, labels) or a changed override whose message was lost.
 */
async function missedApply(
  deps: RecoverySweepDeps,
  record: SyncRecord,
  source: KubeObject,
  now: number,
): Promise<string | undefined> {
  const generation = source.metadata.generation ?? 0;
  if (record.appliedGeneration !== generation) return undefined;
  const decision = await deps.decisions.get(record.ref);
  if (!decision || decision.generation !== generation) return undefined;
  if (decision.contentHash !== contentHash(source, await contentKeyFor(source, deps.contentKey))) return undefined;
  if (now - Date.parse(decision.decidedAt) < deps.settings.unsyncedGraceSeconds * 1000) return undefined;
  if (queuedFor(deps, decision, now) && (await queueHolds(deps, 'sync')())) return undefined;
  return `${describeRef(record.ref)} on ${record.cluster} is not the version decision v${decision.decisionVersion} placed (decided ${decision.decidedAt}): re-applying`;
}

/** Whether a decision is young enough to be left to its sync messages while the sync queue holds messages. */
function queuedFor(deps: RecoverySweepDeps, decision: { decidedAt: string }, now: number): boolean {
  return now - Date.parse(decision.decidedAt) < deps.settings.unsyncedQueuedMaxSeconds * 1000;
}

/** What one decision·cluster pair lacks: a copy the decision wants, or the removal of one it no longer wants. */
export type PairGap = { cluster: string; action: 'apply' | 'delete'; why: string };

const evictedIn = (decision: StoredDecision, cluster: string): boolean | undefined => {
  const e = decision.explanation.find((x) => x.cluster === cluster);
  if (e) return !e.chosen && (e.rejectedBy === 'health' || e.rejectedBy === 'taints');
  return decision.explanationOmitted > 0 ? undefined : false; // left out of a compacted explanation: unknown
};

/**
 * The sync messages a decision still needs, judged from its sync records (pure; `records` holds an entry for every
 * pair read, undefined when nothing is stored; a pair without an entry was not answered and is never judged).
 * - a cluster of the decision with no record, a `deleted` record, or an applied record of an older kcp generation:
 *   its sync message was lost (a crash between the decision write and the send) or its copy was removed;
 * - a cluster the decision removed (its diff) whose record still holds a copy: the delete was lost. Not when the
 *   cluster was evacuated (the failover cleanup removes that copy once the replacement is ready) or may have been.
 * Failed and pending records are the stuck rule's; records behind only in decisionVersion are normal (placement sends
 * only to clusters whose part changed, and an unchanged apply writes nothing).
 */
export function decisionGaps(
  decision: StoredDecision,
  records: ReadonlyMap<string, SyncRecord | undefined>,
): PairGap[] {
  const gaps: PairGap[] = [];
  const what = describeRef(decision.ref);
  for (const c of decision.clusters) {
    const key = syncRecordKey(decision.ref, c.name);
    if (!records.has(key)) continue;
    const record = records.get(key);
    if (!record)
      gaps.push({ cluster: c.name, action: 'apply', why: `${what} is placed on ${c.name} but was never synced there` });
    else if (record.state === 'deleted')
      gaps.push({
        cluster: c.name,
        action: 'apply',
        why: `${what} is placed on ${c.name} but its copy there was removed`,
      });
    else if (record.state === 'applied' && record.appliedGeneration < decision.generation)
      gaps.push({
        cluster: c.name,
        action: 'apply',
        why: `${what} is at generation ${decision.generation} but ${c.name} has generation ${record.appliedGeneration}`,
      });
  }
  for (const cluster of decision.diff.removed) {
    if (decision.clusters.some((c) => c.name === cluster)) continue;
    const record = records.get(syncRecordKey(decision.ref, cluster));
    if (!record || record.state === 'deleted') continue;
    if (decision.reason !== 'Deleted' && evictedIn(decision, cluster) !== false) continue;
    gaps.push({
      cluster,
      action: 'delete',
      why:
        decision.reason === 'Deleted'
          ? `${what} is deleted but its copy on ${cluster} is still recorded`
          : `${what} moved away from ${cluster} but its copy there is still recorded`,
    });
  }
  return gaps;
}

/**
 * Whether a pair with no sync record at all is due for another apply. sync-apply writes nothing for a pair whose kcp
 * object answers NotFound while the decision still places it (an object deleted while its admission was lost, until
 * the sweep confirms its absence and placement removes it: lib/recovery/vanished.ts), so re-sending every run only
 * feeds the queue. The first re-send goes at once; the next ones back off per pair and decision version (the
 * stuck-sync policy). Other gaps are always due.
 */
async function neverSyncedDue(
  deps: RecoverySweepDeps,
  decision: StoredDecision,
  gap: PairGap,
  records: ReadonlyMap<string, SyncRecord | undefined>,
  now: number,
): Promise<boolean> {
  if (gap.action !== 'apply' || records.get(syncRecordKey(decision.ref, gap.cluster)) !== undefined) return true;
  const key = `unsynced|${gap.cluster}|${objectKey(decision.ref)}|v${decision.decisionVersion}`;
  const retry = await deps.store.retryState(key);
  if (retry && retry.nextAt > now) return false;
  const attempts = (retry?.attempts ?? 0) + 1;
  await deps.store.putRetryState(key, {
    attempts,
    nextAt: now + backoffSeconds(attempts, { policy: STUCK_RETRY, atLeastBase: true }) * 1000,
    lastAt: new Date(now).toISOString(),
    reason: gap.why,
  });
  return true;
}

/**
 * Anti-entropy between placement's decisions and sync-apply's records (docs/recovery.md, "Convergence"): one page of
 * the workspace's decisions per run (a cursor carries on, so every decision is looked at within
 * ceil(decisions / unsyncedDecisionLimit) runs), their pairs read in one batch, and a sync message for each pair a
 * lost message left behind. A decision newer than the grace period is left to the messages it sent. Deletes are not
 * sent while deletions in the workspace are held. Idle cost: the page read and one batch read per run.
 */
export async function resyncUnsynced(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  workspace: string,
  clusters: ClusterInfo[],
): Promise<void> {
  const cursorKey = `unsynced|${workspace}`;
  const cursor = await deps.store.sweepCursor(cursorKey);
  const page = await deps.decisions.listByWorkspace(workspace, {
    limit: Math.max(1, deps.settings.unsyncedDecisionLimit),
    ...(cursor ? { cursor } : {}),
  });
  if (page.cursor !== cursor) await deps.store.putSweepCursor(cursorKey, page.cursor);
  const now = deps.now();
  const reachable = new Set(clusters.filter((c) => c.health !== 'Unhealthy').map((c) => c.name));
  const settled = page.decisions.filter(
    (d) => now - Date.parse(d.decidedAt) >= deps.settings.unsyncedGraceSeconds * 1000,
  );
  // Every reachable cluster, not only the decision's: a copy on a cluster the decision never named (a dependency a
  // workload took along) is found the same way.
  const pairs = settled.flatMap((d) => [...reachable].map((cluster) => ({ ref: d.ref, cluster })));
  if (pairs.length === 0) return;
  const { records } = await deps.syncState.readMany({ decisions: [], records: pairs });
  const held = await heldInWorkspace(deps, workspace, [...reachable]);
  const messages: SyncMessage[] = await removeStrayCopies(
    deps,
    report,
    workspace,
    settled.flatMap((d) => strayCopies(d, records, reachable)),
    held,
  );
  // A Namespace's downstream namespace is made by its objects' applies and goes with the last of them: only a stray
  // one (the namespace moved away) is judged, above.
  const queued = queueHolds(deps, 'sync');
  for (const decision of settled.filter((d) => !(d.ref.group === '' && d.ref.resource === 'namespaces'))) {
    const gaps = decisionGaps(decision, records).filter(
      (gap) => reachable.has(gap.cluster) && !(gap.action === 'delete' && held),
    );
    // Its messages may still be in the busy sync queue (read once per run, and only when a gap needs it).
    if (gaps.length > 0 && queuedFor(deps, decision, now) && (await queued())) continue;
    for (const gap of gaps) {
      if (!(await neverSyncedDue(deps, decision, gap, records, now))) continue;
      messages.push({
        type: 'sync',
        ref: decision.ref,
        cluster: gap.cluster,
        action: gap.action,
        decisionVersion: decision.decisionVersion,
        trace: newTrace(now),
      });
      await act(deps, report, {
        action: 'resync-unsynced',
        outcome: 'enqueued',
        why: gap.why,
        workspace,
        cluster: gap.cluster,
        ref: decision.ref,
      });
    }
  }
  if (messages.length === 0) return;
  deps.log.warn(`Re-sending ${messages.length} sync message(s) of ${workspace} that its decisions never got`, {
    workspace,
  });
  await deps.syncQueue.send(messages);
}
