import { systemClock, type Clock } from '../../ports/clock';
import pLimit from 'p-limit';
import { clusterPage, type ClusterCursors } from '../cluster-page';
import type { StatusMessage } from '../../api/messages';
import { downstreamNamespace, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../api/labels';
import { describeRef, gvrKey, objectKey, type ObjectRef } from '../../api/object-ref';
import { asTmcError, type ErrorCategory } from '../../errors/tmc-error';
import type { BackoffPolicy } from '../../errors/backoff';
import type { KubeConnector, KubeObject } from '../../ports/kube-client';
import { STATUSLESS_KINDS, type ClusterStatusRecord, type StatusStore } from '../../ports/status-store';
import type { SyncRecord, SyncStateStore } from '../../ports/sync-state-store';
import type { Metrics } from '../../ports/telemetry';
import { canonicalJson } from '../../kube/canonical-json';
import { failureOutcome } from '../failure-outcome';
import type { Log } from '../../observability/log';
import type { StatusReport, StatusReporter } from './report-status';

export interface StatusUpDeps {
  kube: KubeConnector;
  syncState: SyncStateStore;
  statusStore: StatusStore;
  /**
   * With `refreshOrReschedule` (status-up's BatchRefresh), a first delivery's refresh may hold its kcp write back
   * while other clusters' reports are on their way, and then comes back by itself as a delayed re-run message.
   */
  reporter: StatusReporter & { refreshOrReschedule?(ref: ObjectRef, rerun: StatusMessage): Promise<StatusReport> };
  metrics: Metrics;
  log: Log;
  now?: Clock;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Where the status backstop resumes on each cluster (without: every run reads each cluster's first page only). */
  cursors?: ClusterCursors;
  /** The backstop's memory across runs of a warm container (without: every run reads every stored status it polls). */
  backstopMemo?: BackstopMemo;
  /**
   * Whether the status queue holds messages (visible, in flight or delayed): the backstop then leaves a recent pair
   * to the report that may be among them (`BackstopOptions.queuedMaxSeconds`). Without it, it never waits for them.
   */
  statusQueueBusy?: () => Promise<boolean>;
}

/**
 * Per object·cluster, the downstream resourceVersion whose status the backstop last found stored, and when. While the
 * copy's resourceVersion is the same, its status is the same, so the stored one is not read again for `ttlMs`: an idle
 * run reads no status item. Past the TTL it is read once more (a stored status can change without the copy changing,
 * when a status-up write lost a race).
 */
export class BackstopMemo {
  private readonly seen = new Map<string, { resourceVersion: string; at: number }>();
  /** Per object·cluster, the downstream resourceVersion whose status a run first found missing, and when. */
  private readonly differing = new Map<string, { resourceVersion: string; at: number }>();

  constructor(private readonly ttlMs = 300_000) {}

  matches(key: string, resourceVersion: string, now: number): boolean {
    const hit = this.seen.get(key);
    return hit !== undefined && hit.resourceVersion === resourceVersion && now - hit.at < this.ttlMs;
  }

  remember(key: string, resourceVersion: string, now: number): void {
    this.seen.set(key, { resourceVersion, at: now });
  }

  forget(key: string): void {
    this.seen.delete(key);
  }

  /**
   * Whether an earlier run already found this copy's status (the same resourceVersion) missing from the table. The
   * first sighting is recorded and answers false: a report can be on its way without being in the queue yet (ingress
   * answers the cluster at its enqueue deadline and goes on sending), so only a difference that outlives a run is lost.
   */
  differedBefore(key: string, resourceVersion: string, now: number): boolean {
    const hit = this.differing.get(key);
    if (hit !== undefined && hit.resourceVersion === resourceVersion && hit.at < now && now - hit.at < this.ttlMs) {
      this.differing.delete(key);
      return true;
    }
    this.differing.set(key, { resourceVersion, at: now });
    return false;
  }

  /** Drops what is older than the TTL, so objects applied long ago do not stay in memory. */
  prune(now: number): void {
    for (const [key, hit] of this.seen) if (now - hit.at >= this.ttlMs) this.seen.delete(key);
    for (const [key, hit] of this.differing) if (now - hit.at >= this.ttlMs) this.differing.delete(key);
  }
}

export type StatusResult =
  | { result: 'written' | 'unchanged' | 'stale' | 'ignored' | 'held' }
  | { result: 'deferred'; delaySeconds: number; category: ErrorCategory };

/** A Namespace's downstream copy has another name (its mapped namespace): its sync item is never looked up by name. */
const isNamespace = (ref: ObjectRef): boolean => ref.group === '' && ref.resource === 'namespaces';

/** A downstream object's status as read: its resourceVersion is the version read (after its last write). */
type Observed = { status: Record<string, unknown>; resourceVersion: string; resourceVersionOf: 'read' };

function observedOf(object: KubeObject): Observed {
  const status =
    typeof object.status === 'object' && object.status !== null ? (object.status as Record<string, unknown>) : {};
  return { status, resourceVersion: object.metadata.resourceVersion ?? '0', resourceVersionOf: 'read' };
}

async function readDownstream(deps: StatusUpDeps, ref: ObjectRef, cluster: string): Promise<Observed | undefined> {
  const client = await deps.kube.cluster(ref.workspace, cluster);
  const object = await client.get({
    group: ref.group,
    version: ref.version,
    resource: ref.resource,
    namespace: ref.namespace ? downstreamNamespace(ref.workspace, ref.namespace) : undefined,
    name: ref.name,
  });
  return object ? observedOf(object) : undefined;
}

/**
 * One cluster's status for one object: stored when newer than what is recorded (numeric resourceVersion), then the
 * kcp object's aggregate and per-cluster detail are refreshed. A late or duplicate message stops at the store.
 */
export async function reportClusterStatus(
  deps: StatusUpDeps,
  message: StatusMessage,
  receiveCount: number,
): Promise<StatusResult> {
  const { ref, cluster } = message;
  // A kind without status has no report to store, but sync-apply sends its held refreshes' re-runs here too.
  if (STATUSLESS_KINDS.has(ref.kind) && !message.rerun) return { result: 'ignored' };
  const log = deps.log.child({
    workspace: ref.workspace,
    cluster,
    gvr: gvrKey(ref),
    namespace: ref.namespace,
    name: ref.name,
    traceId: message.trace.traceId,
  });
  try {
    // A re-run of a held-back refresh stores nothing: its report was stored when it first ran.
    if (!message.rerun) {
      const observed = message.status
        ? {
            status: message.status,
            resourceVersion: message.resourceVersion ?? '0',
            ...(message.resourceVersionOf ? { resourceVersionOf: message.resourceVersionOf } : {}),
          }
        : await readDownstream(deps, ref, cluster);
      if (!observed) return { result: 'ignored' };
      const observedAt = new Date((deps.now ?? systemClock)()).toISOString();
      const stored = await deps.statusStore.put({
        ref,
        cluster,
        ...observed,
        observedAt,
        // A carried report was made when it was enqueued; one read downstream just now, now.
        reportedAt: message.status ? message.trace.enqueuedAt : observedAt,
        traceId: message.trace.traceId,
      });
      // A redelivered message may be the retry of one whose refresh failed after its put: the put is then 'stale', yet
      // kcp never showed it, so a retry refreshes anyway (a no-op refresh writes nothing).
      if (stored === 'stale' && receiveCount <= 1) {
        deps.metrics.increment('tmc_status_updates_total', { result: 'stale' });
        return { result: 'stale' };
      }
    }
    // Only a first delivery holds back: a retry or a re-run writes what the table holds.
    const hold =
      receiveCount <= 1 && !message.rerun ? deps.reporter.refreshOrReschedule?.bind(deps.reporter) : undefined;
    const report = hold
      ? await hold(ref, { type: 'status', ref, cluster, rerun: true, trace: message.trace })
      : await deps.reporter.refresh(ref);
    if (report.awaiting) {
      deps.metrics.increment('tmc_status_updates_total', { result: 'held' });
      log.debug('Holding the kcp status write back for reports on their way', { awaiting: report.awaiting });
      return { result: 'held' };
    }
    const written = report.status || report.annotations;
    deps.metrics.increment('tmc_status_updates_total', { result: written ? 'written' : 'unchanged' });
    if (written) {
      const enqueuedAt = Date.parse(message.trace.enqueuedAt);
      if (!Number.isNaN(enqueuedAt))
        deps.metrics.observe('tmc_status_lag_seconds', {}, Math.max(0, (Date.now() - enqueuedAt) / 1000));
      log.info('Updated status in kcp', { statusWritten: report.status, annotationsWritten: report.annotations });
    }
    return { result: written ? 'written' : 'unchanged' };
  } catch (thrown) {
    const err = asTmcError(thrown);
    const outcome = failureOutcome(err, receiveCount, { policy: deps.backoff, random: deps.random });
    if (outcome.action === 'ignore' || outcome.action === 'record-stop') {
      log.warn('Dropping a status update that retrying cannot fix', { error: err.toJSON() });
      return { result: 'ignored' };
    }
    deps.metrics.increment('tmc_retries_total', { function: 'status-up', category: err.category });
    const delaySeconds = outcome.action === 'defer' ? outcome.delaySeconds : 0;
    log.warn('Deferring a status update after a transient failure', { error: err.toJSON(), delaySeconds });
    return { result: 'deferred', delaySeconds, category: err.category };
  }
}

/**
 * The cluster answered that a copy its sync item calls applied is not there: what it last reported about the copy no
 * longer runs, so it stops counting (the object is not Available on that cluster) until the copy is back and reports
 * again. Only status is changed here; putting the copy back is the recovery sweep's. True when kcp was refreshed.
 */
async function forgetMissingCopy(
  deps: StatusUpDeps,
  record: SyncRecord,
  stored: ClusterStatusRecord | undefined,
): Promise<boolean> {
  const { ref, cluster } = record;
  if (!stored) return false;
  deps.log.warn(`Not counting ${describeRef(ref)} on ${cluster}: its copy there is missing`, {
    cluster,
    workspace: ref.workspace,
    gvr: gvrKey(ref),
    namespace: ref.namespace,
    name: ref.name,
  });
  await deps.statusStore.delete(ref, cluster);
  await deps.reporter.refresh(ref);
  return true;
}

export interface BackstopOptions {
  /** Only pairs applied within this window are polled: a settled object's status arrives by webhook. */
  windowSeconds?: number;
  /**
   * Pairs applied more recently than this are left to their status message, which may still be in the queue: polling
   * them raced the primary path (a busy status queue holds a report for longer than a backstop period) and wrote kcp
   * a second time. 0 polls every pair of the window.
   */
  graceSeconds?: number;
  /**
   * While the status queue holds messages, pairs applied less than this long ago are left to their report too: a busy
   * queue holds one for minutes, and the backstop then only wrote kcp ahead of it. Once the queue is empty, or past
   * this, a status still missing is repaired. Unset: only `graceSeconds` applies.
   */
  queuedMaxSeconds?: number;
  /** Upper bound of sync items read per cluster per run. */
  perClusterLimit?: number;
  /** Clusters polled at once. */
  concurrency?: number;
}

export interface BackstopSummary {
  clusters: number;
  polled: number;
  written: number;
  failed: number;
  /** Pairs whose downstream status differed from the stored one, left to a report still in the busy status queue. */
  queued: number;
  /** Pairs whose status this run found missing for the first time: repaired by the next run if still missing. */
  sighted: number;
}

function recent(record: SyncRecord, since: number, until: number): boolean {
  if (record.state !== 'applied' || STATUSLESS_KINDS.has(record.ref.kind) || record.appliedAt === undefined)
    return false;
  const appliedAt = Date.parse(record.appliedAt);
  return appliedAt >= since && appliedAt <= until;
}

/**
 * The downstream objects of one cluster's recent sync items: one list per workspace, resource type and namespace (only
 * tmc's objects, by label) instead of a GET per object; a lone item is still a GET, cheaper than listing its namespace.
 * Keyed by objectKey; an object missing downstream is absent from the map.
 */
async function readDownstreamOf(
  deps: StatusUpDeps,
  cluster: string,
  records: SyncRecord[],
): Promise<Map<string, Observed | Error>> {
  const groups = new Map<string, SyncRecord[]>();
  for (const record of records) {
    const { workspace, group, version, resource, namespace } = record.ref;
    const key = JSON.stringify([workspace, group, version, resource, namespace ?? null]);
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  const out = new Map<string, Observed | Error>();
  for (const members of groups.values()) {
    const { ref } = members[0];
    try {
      if (members.length === 1) {
        const one = await readDownstream(deps, ref, cluster);
        if (one) out.set(objectKey(ref), one);
        continue;
      }
      const client = await deps.kube.cluster(ref.workspace, cluster);
      const listed = await client.list(
        { group: ref.group, version: ref.version, resource: ref.resource },
        {
          namespace: ref.namespace ? downstreamNamespace(ref.workspace, ref.namespace) : undefined,
          labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
        },
      );
      const byName = new Map(listed.map((o) => [o.metadata.name, o]));
      for (const member of members) {
        const object = byName.get(member.ref.name);
        if (object) out.set(objectKey(member.ref), observedOf(object));
      }
    } catch (thrown) {
      // One type·namespace failing (RBAC, a CRD gone) does not stop the others: its items count as failed.
      const err = thrown instanceof Error ? thrown : new Error(String(thrown));
      for (const member of members) out.set(objectKey(member.ref), err);
    }
  }
  return out;
}

/**
 * The items of workspaces where `cluster` is in push mode. A pull-mode cluster is never called: its syncer reports its
 * status, so its items are left alone (neither read nor forgotten). A failed mode read throws: the run retries later.
 */
async function pushModeOnly(deps: StatusUpDeps, cluster: string, records: SyncRecord[]): Promise<SyncRecord[]> {
  const pull = new Set<string>();
  for (const workspace of new Set(records.map((r) => r.ref.workspace)))
    if ((await deps.kube.syncMode?.(workspace, cluster)) === 'Pull') pull.add(workspace);
  return records.filter((r) => !pull.has(r.ref.workspace));
}

/**
 * The scheduled backstop for status webhooks that never arrived (a cluster's webhook down, a lost request): for sync
 * items applied recently, read the downstream status and proceed as if a status message had come. Bounded per run.
 * With a memo, a missing status is repaired when a second run still finds it missing: the primary path's report may
 * be on its way and not yet in the queue, and repairing ahead of it is a straggler in a fault-free run.
 * On an idle stack it writes nothing: a downstream status equal to the stored one is not stored again (the stored
 * resourceVersion may lag, since an admission message carries the version before the update) and kcp is not read.
 */
export async function runStatusBackstop(deps: StatusUpDeps, options: BackstopOptions = {}): Promise<BackstopSummary> {
  const now = (deps.now ?? systemClock)();
  const since = now - (options.windowSeconds ?? 900) * 1000;
  const until = now - (options.graceSeconds ?? 0) * 1000;
  const clusters = await deps.syncState.knownClusters();
  const limit = pLimit(options.concurrency ?? 4);
  const summary: BackstopSummary = {
    clusters: clusters.length,
    polled: 0,
    written: 0,
    failed: 0,
    queued: 0,
    sighted: 0,
  };
  const window = { now, since, until, queuedSince: queuedSince(deps, options, now) };
  await Promise.all(
    clusters.map((cluster) =>
      limit(() => backstopCluster(deps, options, cluster, window, summary)).catch((err: unknown) => {
        summary.failed++;
        deps.log.warn('Status backstop could not poll a cluster', { cluster, error: asTmcError(err).toJSON() });
      }),
    ),
  );
  deps.backstopMemo?.prune(now);
  return summary;
}

/** What one backstop run polls: pairs applied in [since, until]; `queuedSince` in the doc of {@link queuedSince}. */
interface BackstopWindow {
  now: number;
  since: number;
  until: number;
  queuedSince?: () => Promise<number | undefined>;
}

/**
 * Pairs applied after the time this resolves to are left to a report that may still be queued; undefined when the
 * status queue is empty (or the backstop does not read it). The queue is read at most once per run, and only when a
 * recent pair's status differs. A failed read is logged and waits for nothing: a repair written ahead of its queued
 * report only writes kcp twice, while waiting on a read that failed could leave a lost status for good.
 */
function queuedSince(
  deps: StatusUpDeps,
  options: BackstopOptions,
  now: number,
): (() => Promise<number | undefined>) | undefined {
  const busy = deps.statusQueueBusy;
  if (!busy || options.queuedMaxSeconds === undefined) return undefined;
  const since = now - options.queuedMaxSeconds * 1000;
  let reading: Promise<number | undefined> | undefined;
  return () =>
    (reading ??= busy().then(
      (isBusy) => (isBusy ? since : undefined),
      (err: unknown) => {
        deps.log.warn('Status backstop could not read the status queue depth', { error: asTmcError(err).toJSON() });
        return undefined;
      },
    ));
}

/** One cluster's page of the backstop: reads its recent copies downstream and stores what changed. */
async function backstopCluster(
  deps: StatusUpDeps,
  options: BackstopOptions,
  cluster: string,
  { now, since, until, queuedSince: queued }: BackstopWindow,
  summary: BackstopSummary,
): Promise<void> {
  // A page per run, resuming where the last run stopped: reading only the first page of a cluster with more
  // sync items than that (a 1000 × 3 benchmark has 2,000 per cluster) never looked at the rest, so a status whose
  // webhook failed open there was never brought back.
  const recentRecords = (
    await clusterPage(deps.syncState, deps.cursors, `backstop|${cluster}`, cluster, options.perClusterLimit ?? 500)
  ).filter((r) => recent(r, since, until));
  const records = await pushModeOnly(deps, cluster, recentRecords);
  const downstream = await readDownstreamOf(deps, cluster, records);
  // What is stored for every object read downstream, in one BatchGetItem per 100 instead of a GetItem each.
  // Those the cluster answered for, present or missing (a missing copy's stored status stops counting), except
  // copies unchanged since a run found their status stored (the memo).
  const memo = deps.backstopMemo;
  const memoKey = (r: SyncRecord): string => `${objectKey(r.ref)}|${cluster}`;
  const unchanged = (r: SyncRecord): boolean => {
    const observed = downstream.get(objectKey(r.ref));
    return (
      memo !== undefined &&
      observed !== undefined &&
      !(observed instanceof Error) &&
      memo.matches(memoKey(r), observed.resourceVersion, now)
    );
  };
  const found = records.filter(
    (r) =>
      !(downstream.get(objectKey(r.ref)) instanceof Error) &&
      (downstream.has(objectKey(r.ref)) || !isNamespace(r.ref)) &&
      !unchanged(r),
  );
  const storedOf = await deps.statusStore.getMany(
    found.map((r) => r.ref),
    cluster,
  );
  for (const record of records) {
    summary.polled++;
    const observed = downstream.get(objectKey(record.ref));
    if (!observed) {
      memo?.forget(memoKey(record));
      if (!isNamespace(record.ref) && (await forgetMissingCopy(deps, record, storedOf.get(objectKey(record.ref))))) {
        summary.written++;
        deps.metrics.increment('tmc_status_backstop_repairs_total', { found: 'missing-copy' });
      }
      continue;
    }
    if (observed instanceof Error) {
      summary.failed++;
      deps.log.warn('Status backstop could not read a downstream object', {
        cluster,
        workspace: record.ref.workspace,
        gvr: gvrKey(record.ref),
        namespace: record.ref.namespace,
        name: record.ref.name,
        error: asTmcError(observed).toJSON(),
      });
      continue;
    }
    if (unchanged(record)) continue;
    const key = objectKey(record.ref);
    const stored = storedOf.has(key) ? storedOf.get(key) : await deps.statusStore.get(record.ref, cluster);
    if (stored && canonicalJson(stored.status) === canonicalJson(observed.status)) {
      memo?.remember(memoKey(record), observed.resourceVersion, now);
      continue;
    }
    memo?.forget(memoKey(record));
    const waitingSince = await queued?.();
    if (waitingSince !== undefined && Date.parse(record.appliedAt ?? '') >= waitingSince) {
      summary.queued++;
      continue;
    }
    if (memo && !memo.differedBefore(memoKey(record), observed.resourceVersion, now)) {
      summary.sighted++;
      continue;
    }
    const result = await repairStatus(deps, record, cluster, observed, now);
    if (result === 'written') {
      summary.written++;
      memo?.remember(memoKey(record), observed.resourceVersion, now);
    }
    if (result === 'stored') memo?.remember(memoKey(record), observed.resourceVersion, now);
    if (result === 'failed') summary.failed++;
  }
}

/**
 * Brings a status the primary path did not carry to the table and kcp, as a message would. status-up may have stored
 * the report since the run compared (and taken it off the queue, which then read empty): it is read again first.
 */
async function repairStatus(
  deps: StatusUpDeps,
  record: SyncRecord,
  cluster: string,
  observed: Observed,
  now: number,
): Promise<'written' | 'stored' | 'unwritten' | 'failed'> {
  const current = await deps.statusStore.get(record.ref, cluster);
  if (current && canonicalJson(current.status) === canonicalJson(observed.status)) return 'stored';
  const result = await reportClusterStatus(
    deps,
    {
      type: 'status',
      ref: record.ref,
      cluster,
      status: observed.status,
      resourceVersion: observed.resourceVersion,
      resourceVersionOf: observed.resourceVersionOf,
      trace: { traceId: `backstop-${now}`, enqueuedAt: new Date(now).toISOString() },
    },
    1,
  );
  if (result.result === 'deferred') return 'failed';
  if (result.result !== 'written') return 'unwritten';
  deps.metrics.increment('tmc_status_backstop_repairs_total', { found: 'status' });
  // A repair means a status webhook's report was lost: an operator checks that cluster's webhook and ingress.
  deps.log.warn(
    `Status backstop repaired the status of ${describeRef(record.ref)} on ${cluster}: its report never arrived`,
    {
      cluster,
      workspace: record.ref.workspace,
      gvr: gvrKey(record.ref),
      namespace: record.ref.namespace,
      name: record.ref.name,
      appliedAt: record.appliedAt,
      storedResourceVersion: current?.resourceVersion,
      downstreamResourceVersion: observed.resourceVersion,
    },
  );
  return 'written';
}
