import { z } from 'zod';
import type { SyncMessage } from '../api/messages';
import { describeRef, objectKey } from '../api/object-ref';
import { backoffSeconds, type BackoffPolicy } from '../errors/backoff';
import type { ClusterInfo } from '../placement/types';
import type { KubeObject } from '../ports/kube-client';
import type { SyncRecord } from '../ports/sync-state-store';
import { placementFor } from '../sync/sync-object';
import { toDownstream } from '../sync/transform';
import { act, newTrace, type RecoverySweepDeps, type RecoverySweepReport } from './deps';
import { isStuck } from './rules';

/** Stuck syncs are re-sent at most this often per pair, doubling: a cluster that keeps failing is not flooded. */
const STUCK_RETRY: BackoffPolicy = { baseSeconds: 60, capSeconds: 3600 };

function apply(record: SyncRecord, decisionVersion: number, now: number): SyncMessage {
  return { type: 'sync', ref: record.ref, cluster: record.cluster, action: 'apply', decisionVersion, trace: newTrace(now) };
}

/** Re-enqueues sync items whose desired state has not been applied for too long, with per-pair backoff. */
export async function resyncStuck(deps: RecoverySweepDeps, report: RecoverySweepReport, cluster: ClusterInfo, records: SyncRecord[]): Promise<void> {
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
    await deps.store.putRetryState(key, { attempts, nextAt: now + backoffSeconds(attempts, { policy: STUCK_RETRY }) * 1000, lastAt: new Date(now).toISOString(), reason: why });
    messages.push(apply(record, decision.decisionVersion, now));
    await act(deps, report, { action: 'resync-stuck', outcome: 'enqueued', why, workspace: record.ref.workspace, cluster: cluster.name, ref: record.ref });
  }
  if (messages.length) await deps.syncQueue.send(messages);
}

/**
 * True when every field of `desired` has the same value in `live`. Servers add defaults and status, so equality
 * would report drift on every object; a field tmc set and someone changed (replicas, an image, a label) is found.
 */
export function containsDesired(live: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => containsDesired(live[i], d));
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
 * what tmc applied, rebuilt from the kcp object and the decision. A changed or deleted copy is marked
 * `driftReported` (so sync-apply applies even though the hash matches) and re-enqueued. Secrets are skipped: the
 * sweep never reads Secret data.
 */
export async function repairDrift(deps: RecoverySweepDeps, report: RecoverySweepReport, cluster: ClusterInfo, records: SyncRecord[]): Promise<void> {
  const candidates = records.filter((r) => r.state === 'applied' && !r.driftReported && r.ref.kind !== 'Secret' && r.ref.resource !== 'namespaces');
  if (candidates.length === 0 || deps.settings.driftSamples <= 0) return;
  const now = deps.now();
  const start = Math.floor(now / 60_000) * deps.settings.driftSamples;
  const sample = Array.from({ length: Math.min(deps.settings.driftSamples, candidates.length) }, (_, i) => candidates[(start + i) % candidates.length]);
  const messages: SyncMessage[] = [];
  for (const record of sample) {
    const ref = record.ref;
    const [kcp, client, decision] = await Promise.all([deps.kube.kcp(ref.workspace), deps.kube.cluster(ref.workspace, cluster.name), deps.syncState.decision(ref)]);
    if (!decision?.clusters.some((c) => c.name === cluster.name)) continue;
    const source = await kcp.get(ref);
    if (!source || source.metadata.deletionTimestamp) continue;
    const desired: KubeObject = toDownstream(source, ref, placementFor(decision, cluster.name));
    const live = await client.get({ group: ref.group, version: ref.version, resource: ref.resource, namespace: desired.metadata.namespace, name: ref.name });
    const { status: _s, ...want } = desired;
    if (live && containsDesired(JsonObject.parse(live), want)) continue;
    await deps.syncState.put({ ...record, driftReported: true, updatedAt: new Date(now).toISOString() });
    messages.push(apply(record, decision.decisionVersion, now));
    await act(deps, report, {
      action: 'drift',
      outcome: 'enqueued',
      why: live ? `${describeRef(ref)} on ${cluster.name} differs from what tmc applied: re-applying` : `${describeRef(ref)} is missing on ${cluster.name}: re-applying`,
      workspace: ref.workspace,
      cluster: cluster.name,
      ref,
    });
  }
  if (messages.length) await deps.syncQueue.send(messages);
}
