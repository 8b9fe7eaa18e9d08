import { describeRef, type ObjectRef } from '../api/object-ref';
import type { ObjectSnapshot } from '../ports/object-snapshot';
import type { ObjectTrace, TraceStep } from '../ports/object-trace';
import type { SyncRecord, SyncState } from '../ports/sync-state-store';

/**
 * The path of an object's last change as `tmc trace` prints it: ingress → placed → applied on each cluster → status
 * back from each cluster, each step with the time since the change reached tmc and since the step it followed; and
 * beside it what DynamoDB holds now (the decision, each cluster's sync item and reported status, with its age). Pure:
 * the CLI reads the items, this orders, times and checks them.
 */

export interface PathStep {
  /** `ingress`, `placed`, `applied:east`, `status:east`. */
  step: string;
  cluster?: string;
  /** ISO time, or undefined for a step that has not happened (yet). */
  at?: string;
  /** Seconds since the change reached tmc (ingress). */
  sinceStart?: number;
  /** Seconds since the step this one followed (placed ← ingress, applied ← placed, status ← applied on that cluster). */
  sincePrevious?: number;
  detail?: string;
}

/** One cluster as DynamoDB records it for the object now. */
export interface ClusterNow {
  cluster: string;
  /** Whether the decision names this cluster. */
  placed: boolean;
  /** The SYNC item's state, `none` when no item is stored. */
  sync: SyncState | 'none';
  /** The decision version the SYNC item follows. */
  decisionVersion?: number;
  /** The kcp generation it applied. */
  appliedGeneration?: number;
  /** When the SYNC item last changed. */
  updatedAt?: string;
  appliedAt?: string;
  /** The SYNC item's last error message. */
  error?: string;
  /** The cluster's last reported status (`STATUS` item): when it was observed, and how old that was at `readAt`. */
  status?: { observedAt: string; ageSeconds: number };
}

/** What DynamoDB holds for the object when `tmc trace` read it: the decision and every cluster it says anything of. */
export interface TraceNow {
  readAt: string;
  decision?: {
    version: number;
    clusters: string[];
    scheduled?: boolean;
    reason?: string;
    message?: string;
  };
  /** By cluster name: every cluster the decision names, a SYNC item or a STATUS item is stored for. */
  clusters: ClusterNow[];
}

export interface TracePath {
  traceId: string;
  startedAt: string;
  steps: PathStep[];
  /** Seconds from ingress to the last recorded step. */
  totalSeconds: number;
  /**
   * Steps the change still waits for: `placed` while no decision was recorded since it began; `applied:<cluster>` for a
   * cluster the decision names whose copy is not applied (or that this change sent work to, not applied since), and
   * for one it does not name where a copy is still recorded.
   */
  waiting: string[];
  /** Undefined when the path was not checked against DynamoDB. */
  now?: TraceNow;
}

const seconds = (from: string, to: string): number => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

/** Clusters named in the `placed` step's detail (`apply east, delete west`), by action. */
function placedClusters(placed: TraceStep | undefined): Array<{ action: string; cluster: string }> {
  if (placed?.detail === undefined) return [];
  return placed.detail
    .split(',')
    .map((part) => part.trim().split(/\s+/))
    .filter((words) => words.length === 2)
    .map(([action, cluster]) => ({ action, cluster }));
}

/** DynamoDB's view of the object, cluster by cluster, as read at `readAt`. */
function nowOf(state: ObjectSnapshot, readAt: string): TraceNow {
  const { decision } = state;
  const names = decision?.clusters.map((c) => c.name) ?? [];
  const recordOf = new Map(state.syncRecords.map((r) => [r.cluster, r]));
  const statusOf = new Map(state.statuses.map((s) => [s.cluster, s]));
  const clusters = [...new Set([...names, ...recordOf.keys(), ...statusOf.keys()])].sort();
  return {
    readAt,
    ...(decision
      ? {
          decision: {
            version: decision.decisionVersion,
            clusters: names,
            ...(decision.scheduled !== undefined ? { scheduled: decision.scheduled } : {}),
            ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
            ...(decision.message !== undefined ? { message: decision.message } : {}),
          },
        }
      : {}),
    clusters: clusters.map((cluster) => {
      const record = recordOf.get(cluster);
      const status = statusOf.get(cluster);
      return {
        cluster,
        placed: names.includes(cluster),
        sync: record?.state ?? 'none',
        ...(record
          ? {
              decisionVersion: record.decisionVersion,
              appliedGeneration: record.appliedGeneration,
              updatedAt: record.updatedAt,
              ...(record.appliedAt ? { appliedAt: record.appliedAt } : {}),
              ...(record.lastError ? { error: record.lastError.message } : {}),
            }
          : {}),
        ...(status
          ? { status: { observedAt: status.observedAt, ageSeconds: seconds(status.observedAt, readAt) } }
          : {}),
      };
    }),
  };
}

/**
 * The `placed` step: the decision recorded for this change, or else one recorded after the change began under another
 * trace (a redelivery, the recovery sweep), which placed it too.
 */
function placedStep(trace: ObjectTrace, start: string, state: ObjectSnapshot | undefined): PathStep {
  const decided = trace.steps.placed ?? (trace.decided && trace.decided.at >= start ? trace.decided : undefined);
  if (decided === undefined)
    return { step: 'placed', detail: 'no decision recorded for this change yet (tmc placement explain says why)' };
  const decision = state?.decision;
  const nothingSent =
    decision === undefined
      ? 'no sync work sent'
      : `no sync work sent: decision v${decision.decisionVersion} ${decision.reason ?? ''}${decision.message ? `: ${decision.message}` : ''}`;
  const under = decided === trace.steps.placed ? '' : ` (decided under ${decided.traceId})`;
  return {
    step: 'placed',
    at: decided.at,
    sinceStart: seconds(start, decided.at),
    sincePrevious: seconds(start, decided.at),
    detail: `${decided.detail ?? nothingSent}${under}`,
  };
}

/**
 * The path, checked against what DynamoDB holds now (`state`, the object's snapshot, read at `readAt`): a copy
 * applied or removed by a later message (a retry, the sweep) is recorded under another trace, and a status reported
 * under another change; without the check the path would keep waiting for what is done, or call done a delete still
 * held by a cluster.
 */
export function tracePath(trace: ObjectTrace, state?: ObjectSnapshot, readAt = new Date().toISOString()): TracePath {
  const start = trace.steps.received?.at ?? trace.startedAt;
  const at = (step: TraceStep | undefined): Pick<PathStep, 'at' | 'sinceStart'> =>
    step === undefined ? {} : { at: step.at, sinceStart: seconds(start, step.at) };
  const steps: PathStep[] = [{ step: 'ingress', at: start, sinceStart: 0, detail: trace.steps.received?.detail }];
  const placed = placedStep(trace, start, state);
  steps.push(placed);

  const targets = placedClusters(trace.steps.placed);
  const named = (prefix: string): string[] =>
    Object.keys(trace.steps)
      .filter((s) => s.startsWith(`${prefix}:`))
      .map((s) => s.slice(prefix.length + 1));
  const recordOf = new Map((state?.syncRecords ?? []).map((r) => [r.cluster, r]));
  const statusOf = new Map((state?.statuses ?? []).map((r) => [r.cluster, r]));
  const wanted = new Set((state?.decision?.clusters ?? []).map((c) => c.name));
  const clusters = [
    ...new Set([
      ...targets.map((t) => t.cluster),
      ...named('applied'),
      ...named('status'),
      ...wanted,
      ...recordOf.keys(),
    ]),
  ];
  const byTime = (c: string): number => Date.parse(trace.steps[`applied:${c}`]?.at ?? '') || Number.MAX_SAFE_INTEGER;
  clusters.sort((a, b) => byTime(a) - byTime(b) || a.localeCompare(b));

  const waiting: string[] = placed.at === undefined ? ['placed'] : [];
  for (const cluster of clusters) {
    const applied = trace.steps[`applied:${cluster}`];
    const action = targets.find((t) => t.cluster === cluster)?.action;
    const record = recordOf.get(cluster);
    const want =
      state?.decision !== undefined
        ? wanted.has(cluster)
          ? 'applied'
          : 'deleted'
        : action === 'delete' || applied?.result === 'deleted'
          ? 'deleted'
          : 'applied';
    const settled = state === undefined ? applied !== undefined : isSettled(record, want, applied, action, start);
    if (!settled) waiting.push(`applied:${cluster}`);
    const recorded =
      record === undefined
        ? undefined
        : settled
          ? `${record.state} (sync state, ${record.appliedAt ?? record.updatedAt})`
          : `${record.state}${record.lastError ? `: ${record.lastError.message}` : ''} (sync state)`;
    steps.push({
      step: `applied:${cluster}`,
      cluster,
      ...at(applied),
      ...(applied && placed.at ? { sincePrevious: seconds(placed.at, applied.at) } : {}),
      detail:
        (applied && (state === undefined || settled) ? applied.result : recorded) ??
        applied?.result ??
        (settled
          ? 'nothing to remove (no copy recorded)'
          : `waiting (${action ?? (want === 'deleted' ? 'delete' : 'apply')})`),
    });
    const status = trace.steps[`status:${cluster}`];
    // A delete brings no status back (what a removed copy last reported stays in `now`), and kinds without status
    // (ConfigMap) never report one.
    if (status === undefined && (want === 'deleted' || applied?.result === 'deleted')) continue;
    const reported = statusOf.get(cluster);
    steps.push({
      step: `status:${cluster}`,
      cluster,
      ...at(status),
      ...(status && applied ? { sincePrevious: seconds(applied.at, status.at) } : {}),
      detail:
        status?.result ??
        (reported ? `reported ${reported.observedAt} (status in DynamoDB)` : 'no status reported yet'),
    });
  }
  const recorded = steps.map((s) => s.sinceStart).filter((s): s is number => s !== undefined);
  return {
    traceId: trace.traceId,
    startedAt: start,
    steps,
    totalSeconds: Math.max(0, ...recorded),
    waiting,
    ...(state ? { now: nowOf(state, readAt) } : {}),
  };
}

/**
 * Whether DynamoDB shows this cluster's part done: on a cluster the decision names, a copy applied — since the change
 * began when this change sent it work; on another, no copy left (none recorded, or deleted).
 */
function isSettled(
  record: SyncRecord | undefined,
  want: 'applied' | 'deleted',
  applied: TraceStep | undefined,
  action: string | undefined,
  start: string,
): boolean {
  if (want === 'deleted') return record === undefined || record.state === 'deleted';
  if (record?.state !== 'applied') return false;
  if (action === undefined || applied !== undefined) return true;
  return Date.parse(record.appliedAt ?? '') >= Date.parse(start);
}

const fmt = (s: number | undefined): string => (s === undefined ? '' : `${s.toFixed(3)}s`);

/** The table `tmc trace` prints: the path, then what DynamoDB holds now. */
export function formatTracePath(ref: ObjectRef, path: TracePath): string {
  const header = `${describeRef(ref)} in ${ref.workspace}: last change ${path.traceId}, received ${path.startedAt}`;
  const rows = [['STEP', 'AT', 'SINCE START', 'SINCE PREVIOUS', 'DETAIL']];
  for (const s of path.steps) rows.push([s.step, s.at ?? '-', fmt(s.sinceStart), fmt(s.sincePrevious), s.detail ?? '']);
  const footer =
    path.waiting.length > 0
      ? `Still waiting for ${path.waiting.join(', ')} after ${fmt(path.totalSeconds)}`
      : `${fmt(path.totalSeconds)} from the change reaching tmc to the last step`;
  return [header, ...table(rows), footer, ...(path.now ? formatNow(path.now) : []), ''].join('\n');
}

function formatNow(now: TraceNow): string[] {
  const d = now.decision;
  const decision = d
    ? `decision v${d.version} ${d.reason ?? ''} on ${d.clusters.length ? d.clusters.join(', ') : 'no cluster'}${d.message ? ` (${d.message})` : ''}`
    : 'no decision recorded';
  const rows = [['CLUSTER', 'PLACED', 'SYNC', 'DECISION', 'GENERATION', 'SINCE', 'STATUS AGE', 'ERROR']];
  for (const c of now.clusters)
    rows.push([
      c.cluster,
      c.placed ? 'yes' : 'no',
      c.sync,
      c.decisionVersion === undefined ? '-' : `v${c.decisionVersion}`,
      c.appliedGeneration === undefined ? '-' : String(c.appliedGeneration),
      c.appliedAt ?? c.updatedAt ?? '-',
      c.status ? fmt(c.status.ageSeconds) : '-',
      c.error ?? '',
    ]);
  return ['', `Now in DynamoDB (read ${now.readAt}): ${decision}`, ...(now.clusters.length ? table(rows) : [])];
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}
