import { describeRef, type ObjectRef } from '../api/object-ref';
import type { ObjectSnapshot } from '../ports/object-snapshot';
import type { ObjectTrace, TraceStep } from '../ports/object-trace';

/**
 * The path of an object's last change as `tmc trace` prints it: ingress → placed → applied on each cluster → status
 * back from each cluster, each step with the time since the change reached tmc and since the step it followed. Pure:
 * the CLI reads the trace item, this orders and times it.
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

export interface TracePath {
  traceId: string;
  startedAt: string;
  steps: PathStep[];
  /** Seconds from ingress to the last recorded step. */
  totalSeconds: number;
  /** Steps the change still waits for (a cluster placement sent work to that has not applied it). */
  waiting: string[];
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

/**
 * The path, checked against what DynamoDB holds now (`state`, the object's snapshot): a copy applied or removed by a
 * later message (a retry, the sweep) is recorded under another trace, and a status reported under another change;
 * without the check the path would keep waiting for what is done, or call done a delete still held by a cluster.
 */
export function tracePath(trace: ObjectTrace, state?: ObjectSnapshot): TracePath {
  const start = trace.steps.received?.at ?? trace.startedAt;
  const at = (step: TraceStep | undefined): Pick<PathStep, 'at' | 'sinceStart'> =>
    step === undefined ? {} : { at: step.at, sinceStart: seconds(start, step.at) };
  const steps: PathStep[] = [{ step: 'ingress', at: start, sinceStart: 0, detail: trace.steps.received?.detail }];
  const placed = trace.steps.placed;
  steps.push({
    step: 'placed',
    ...at(placed),
    ...(placed ? { sincePrevious: seconds(start, placed.at) } : {}),
    // No sync work sent: unchanged, unschedulable or still deciding; `tmc placement explain` says which.
    detail: placed?.detail ?? 'no sync work sent yet (tmc placement explain says why)',
  });

  const targets = placedClusters(placed);
  const named = (prefix: string): string[] =>
    Object.keys(trace.steps)
      .filter((s) => s.startsWith(`${prefix}:`))
      .map((s) => s.slice(prefix.length + 1));
  const recordOf = new Map((state?.syncRecords ?? []).map((r) => [r.cluster, r]));
  const statusOf = new Map((state?.statuses ?? []).map((r) => [r.cluster, r]));
  const wanted = new Set((state?.decision?.clusters ?? []).map((c) => c.name));
  // Copies DynamoDB still records on clusters the decision no longer names: a delete is not done while they remain.
  const leftovers = [...recordOf.values()]
    .filter((r) => state?.decision !== undefined && !wanted.has(r.cluster) && r.state !== 'deleted')
    .map((r) => r.cluster);
  const clusters = [
    ...new Set([...targets.map((t) => t.cluster), ...named('applied'), ...named('status'), ...leftovers]),
  ];
  const byTime = (c: string): number => Date.parse(trace.steps[`applied:${c}`]?.at ?? '') || Number.MAX_SAFE_INTEGER;
  clusters.sort((a, b) => byTime(a) - byTime(b) || a.localeCompare(b));

  const waiting: string[] = placed === undefined ? ['placed'] : [];
  for (const cluster of clusters) {
    const applied = trace.steps[`applied:${cluster}`];
    const action =
      targets.find((t) => t.cluster === cluster)?.action ?? (leftovers.includes(cluster) ? 'delete' : undefined);
    const record = recordOf.get(cluster);
    const want = action === 'delete' || (state?.decision !== undefined && !wanted.has(cluster)) ? 'deleted' : 'applied';
    // What DynamoDB says of the pair when it disagrees with (or fills in) this change's trace.
    // An apply counts when it is this change's (traced) or happened after the change reached tmc.
    const settled =
      record !== undefined &&
      record.state === want &&
      (want === 'deleted' || applied !== undefined || Date.parse(record.appliedAt ?? '') >= Date.parse(start));
    const recorded =
      record === undefined
        ? undefined
        : settled
          ? `${record.state} (sync state, ${record.appliedAt ?? record.updatedAt})`
          : `${record.state}${record.lastError ? `: ${record.lastError.message}` : ''} (sync state)`;
    const done = state === undefined ? applied !== undefined : record === undefined ? want === 'deleted' : settled;
    if (!done) waiting.push(`applied:${cluster}`);
    steps.push({
      step: `applied:${cluster}`,
      cluster,
      ...at(applied),
      ...(applied && placed ? { sincePrevious: seconds(placed.at, applied.at) } : {}),
      detail:
        (applied && (state === undefined || settled) ? applied.result : recorded) ??
        applied?.result ??
        (action === undefined ? undefined : `waiting (${action})`),
    });
    const status = trace.steps[`status:${cluster}`];
    // A delete brings no status back, and kinds without status (ConfigMap) never report one.
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
  return { traceId: trace.traceId, startedAt: start, steps, totalSeconds: Math.max(0, ...recorded), waiting };
}

const fmt = (s: number | undefined): string => (s === undefined ? '' : `${s.toFixed(3)}s`);

/** The table `tmc trace` prints. */
export function formatTracePath(ref: ObjectRef, path: TracePath): string {
  const header = `${describeRef(ref)} in ${ref.workspace}: last change ${path.traceId}, received ${path.startedAt}`;
  const rows = [['STEP', 'AT', 'SINCE START', 'SINCE PREVIOUS', 'DETAIL']];
  for (const s of path.steps) rows.push([s.step, s.at ?? '-', fmt(s.sinceStart), fmt(s.sincePrevious), s.detail ?? '']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
  const footer =
    path.waiting.length > 0
      ? `Still waiting for ${path.waiting.join(', ')} after ${fmt(path.totalSeconds)}`
      : `${fmt(path.totalSeconds)} from the change reaching tmc to the last step`;
  return [header, ...lines, footer, ''].join('\n');
}
