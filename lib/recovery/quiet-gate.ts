import { createHash } from 'node:crypto';
import { z } from 'zod';
import { gvrKey } from '../api/object-ref';
import { canonicalJson } from '../kube/canonical-json';
import type { ClusterInfo } from '../placement/types';
import type { RecoveryStore } from '../ports/recovery-store';
import type { SyncRecord } from '../ports/sync-state-store';
import { holdsMessages } from '../metrics/rollup';
import type { RecoverySweepDeps } from './deps';
import { ALWAYS_LISTED_KINDS, listKind } from './unplaced';

/**
 * Listed by the gate in every workspace: what the lost-admission pass lists, and what moves placement without changing
 * a placed object (a namespace's labels, Placements, Locations), whose messages can be lost too. Not SyncTargets:
 * health-probe writes their heartbeat every few minutes, and what placement reads of them is the inventory's mirror,
 * which the gate hashes.
 */
const GATE_KINDS: readonly Gvr[] = [
  ...ALWAYS_LISTED_KINDS,
  { group: '', version: 'v1', resource: 'namespaces' },
  { group: 'scheduling.kcp.io', version: 'v1alpha1', resource: 'placements' },
  { group: 'scheduling.kcp.io', version: 'v1alpha1', resource: 'locations' },
];

/** Where the gate keeps what the last full pass saw (a cursor item: `CURSOR#quiet`). */
const GATE_KEY = 'quiet';

const GateStateSchema = z.object({
  /** What the gate saw before the last full pass (clusters and their health, kcp's objects, busy queues). */
  fingerprint: z.string(),
  /** When the fingerprint last changed, or the queues were last busy (epoch ms). */
  changedAt: z.number(),
  /** When the last full pass started (epoch ms). */
  fullAt: z.number(),
  /** The last full pass acted on nothing, failed nowhere, saw nothing unsettled and read everything in one page. */
  quiet: z.boolean(),
  /** Per workspace, the resource types the last full pass found sync items of (listed in kcp beside GATE_KINDS). */
  kinds: z.record(z.string(), z.array(z.object({ group: z.string(), version: z.string(), resource: z.string() }))),
  /**
   * On a stack larger than a pass's page: the settled full passes since `since` (consecutive, nothing the gate sees
   * changed between them, each quiet but for its pages carrying on), and how far each paged pass's rotation got in
   * them. The state turns quiet once every rotation went round in full (docs/recovery.md "Idle runs").
   */
  streak: z
    .object({
      since: z.number(),
      rotations: z.record(z.string(), z.object({ fromStart: z.boolean(), ends: z.number() })),
    })
    .optional(),
});
type Gvr = { group: string; version: string; resource: string };
export type GateState = z.infer<typeof GateStateSchema>;

/** What one full pass saw that is not settled yet; any of it keeps the next run a full pass. */
export interface SweepProgress {
  unsettled: string[];
}

/**
 * A sync item in a state a later sweep may act on without any new change (stuck after stuckAfterSeconds, deleting,
 * failed and retryable): applied and deleted are the only states no time-based rule acts on.
 */
export const unsettledRecord = (r: SyncRecord): boolean => r.state !== 'applied' && r.state !== 'deleted';

function parseState(raw: string | undefined): GateState | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed = GateStateSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // not JSON: treated as no state, so the next run is a full pass
  }
}

/** The sweep's record of its last full pass (its start, whether it was quiet), for readers outside the sweep. */
export async function lastFullPass(store: Pick<RecoveryStore, 'sweepCursor'>): Promise<GateState | undefined> {
  return parseState(await store.sweepCursor(GATE_KEY));
}

export interface GateReading {
  fingerprint: string;
  busy: boolean;
  state: GateState | undefined;
}

/** Each kind's objects in kcp as the gate hashes them: key, then one line per object. */
async function listedLines(
  deps: RecoverySweepDeps,
  workspace: string,
  gvrs: readonly Gvr[],
): Promise<Map<string, string[]>> {
  const listed = await Promise.all(
    gvrs.map(async (gvr) => {
      const objects = await listKind(deps, workspace, gvr);
      const lines = objects
        .map(
          (o) =>
            `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''} ${o.metadata.uid ?? ''} ${o.metadata.resourceVersion ?? ''}`,
        )
        .sort();
      return [gvrKey(gvr), lines] as const;
    }),
  );
  return new Map(listed);
}

/**
 * What the gate compares between runs: every workspace's SyncTargets with their health, every kcp object of the
 * kinds the sweep's kcp passes look at (uid and resourceVersion: any write to one, tmc's own included, changes it;
 * a delete removes it), and whether any queue holds a message (visible, in flight or delayed). A read that fails
 * throws: the run is then a full pass.
 *
 * Its reads go out at once, beside the SyncTargets' (`inventories`, read by the caller): a Lambda run is billed by its
 * wall time, and an idle run is mostly this wait. Only a kind the last full pass recorded beyond GATE_KINDS needs the
 * cursor item first.
 */
export async function readGate(
  deps: RecoverySweepDeps,
  inventories: Promise<ReadonlyMap<string, ClusterInfo[]>>,
): Promise<GateReading> {
  const [state, clustersByWorkspace, depths, common] = await Promise.all([
    deps.store.sweepCursor(GATE_KEY).then(parseState),
    inventories,
    deps.queueDepths ? deps.queueDepths() : Promise.resolve([]),
    Promise.all(deps.workspaces.map((workspace) => listedLines(deps, workspace, GATE_KINDS))),
  ]);
  const gateKeys = new Set(GATE_KINDS.map(gvrKey));
  const extra = await Promise.all(
    deps.workspaces.map((workspace) =>
      listedLines(
        deps,
        workspace,
        (state?.kinds[workspace] ?? []).filter((gvr) => !gateKeys.has(gvrKey(gvr))),
      ),
    ),
  );
  const linesOf = new Map(deps.workspaces.map((ws, i) => [ws, new Map([...common[i], ...extra[i]])]));
  const hash = createHash('sha256');
  for (const [workspace, clusters] of clustersByWorkspace) {
    hash.update(`ws ${workspace}\n`);
    for (const c of [...clusters].sort((a, b) => a.name.localeCompare(b.name)))
      hash.update(`cluster ${canonicalJson(c)}\n`);
    const kinds = [...(linesOf.get(workspace) ?? new Map<string, string[]>())].sort(([a], [b]) => a.localeCompare(b));
    for (const [key, lines] of kinds) hash.update(`kind ${key} ${lines.length}\n${lines.join('\n')}\n`);
  }
  const busy = depths.some(holdsMessages);
  return { fingerprint: hash.digest('hex'), busy, state };
}

/**
 * Whether this run may skip the full pass: the last full pass was quiet and started after everything had been
 * unchanged for `settleSeconds` (every grace period of the passes has run out since the last change), nothing the
 * gate sees changed since, no queue holds a message, every cluster is Healthy, and the last full pass is younger than
 * `fullPassSeconds` (what the gate cannot see, such as a copy edited by hand on a cluster, waits at most that long).
 */
export function maySkip(
  reading: GateReading,
  clusters: readonly ClusterInfo[],
  now: number,
  settings: { fullPassSeconds: number },
): boolean {
  const { state } = reading;
  if (!state || !state.quiet || reading.busy) return false;
  if (state.fingerprint !== reading.fingerprint) return false;
  if (clusters.some((c) => c.health !== 'Healthy')) return false;
  return now - state.fullAt < settings.fullPassSeconds * 1000;
}

/**
 * The paged passes' cursors: each run reads one page and moves the cursor on, so a stack larger than a page is covered
 * over several runs (a rotation). Which of them wraps inside one page, its cursor then moving back in key order.
 */
const PAGED: ReadonlyArray<{ prefix: string; wrapsInPage: boolean }> = [
  { prefix: 'sweep|', wrapsInPage: true }, // lib/sync/cluster-page.ts: object keys, the end filled from the start
  { prefix: 'unsynced|', wrapsInPage: false }, // lib/recovery/resync.ts: an opaque page cursor, none at the end
  { prefix: 'unplaced|', wrapsInPage: false }, // lib/recovery/unplaced.ts: the last object key, none at the end
];
const pagedBy = (key: string): { prefix: string; wrapsInPage: boolean } | undefined =>
  PAGED.find((p) => key.startsWith(p.prefix));

/** One paged pass's cursor in one run: what the run read, and what it left. */
export interface PageMove {
  key: string;
  read: string | undefined;
  left: string | undefined;
}

/**
 * Whether a run's page of a paged pass reached the end of what the pass pages through: its cursor is cleared (the
 * page ended there), or moved back in key order (a cluster's page filled from the start: lib/sync/cluster-page.ts).
 */
export function reachedEnd(move: PageMove): boolean {
  if (move.left === undefined) return true;
  return pagedBy(move.key)?.wrapsInPage === true && move.read !== undefined && move.left <= move.read;
}

/**
 * Cursors the passes read or wrote during a run: whether a rotation that is not paged (the partial pass's, the sweep's
 * order cursor) carries on, and how each paged pass's cursor moved.
 */
export function observeCursors(store: RecoveryStore): {
  store: RecoveryStore;
  carryingOn: () => string[];
  pageMoves: () => PageMove[];
} {
  const first = new Map<string, string | undefined>();
  const last = new Map<string, string | undefined>();
  const observed: RecoveryStore = Object.create(store) as RecoveryStore;
  observed.sweepCursor = async (key: string): Promise<string | undefined> => {
    const value = await store.sweepCursor(key);
    if (!last.has(key)) last.set(key, value);
    if (!first.has(key)) first.set(key, value);
    return value;
  };
  observed.putSweepCursor = async (key: string, after: string | undefined): Promise<void> => {
    await store.putSweepCursor(key, after);
    last.set(key, after);
  };
  const carrying = (key: string, value: string | undefined): boolean => {
    // The gate's own record, and the lost-admission pass's remembered kinds, are state, not a rotation; the paged
    // passes' rotations are judged over several runs (pageMoves, recordGate).
    if (value === undefined || key === GATE_KEY || key.startsWith('unplaced-kinds|') || pagedBy(key)) return false;
    // The partial pass keeps `{done}` once its rotation is over; `after` only while it carries on. The sweep's order
    // cursor (cursor.ts) is set only while runs are cut off before their last step: a rotation too.
    if (key.startsWith('partial|')) return value.includes('"after"');
    return true;
  };
  return {
    store: observed,
    carryingOn: () => [...last].filter(([k, v]) => carrying(k, v)).map(([k]) => k),
    // A cursor written without being read first (no pass does) is not a page: it is left out.
    pageMoves: () =>
      [...first]
        .filter(([key]) => pagedBy(key) !== undefined)
        .map(([key, read]) => ({ key, read, left: last.get(key) })),
  };
}

type Streak = NonNullable<GateState['streak']>;

/**
 * The streak of settled, quiet full passes with this run's pages added. A paged pass's rotation went round in full
 * once its pages since the streak began cover every key: its page reached the end twice (everything between the two),
 * or once after a first page that started at the beginning. A page that holds everything does both at once.
 */
export function extendStreak(streak: Streak | undefined, since: number, moves: readonly PageMove[]): Streak {
  const rotations = { ...(streak?.rotations ?? {}) };
  for (const move of moves) {
    const was = rotations[move.key] ?? { fromStart: move.read === undefined, ends: 0 };
    rotations[move.key] = { fromStart: was.fromStart, ends: Math.min(2, was.ends + (reachedEnd(move) ? 1 : 0)) };
  }
  return { since: streak?.since ?? since, rotations };
}

/** Whether every paged pass of the streak went round in full since it began. */
export function wentRound(streak: Streak): boolean {
  return Object.values(streak.rotations).every((r) => r.ends >= 2 || (r.ends >= 1 && r.fromStart));
}

/**
 * What a full pass leaves for the next run's decision. A settled, quiet pass starts a streak, or carries on the one
 * the previous pass left when nothing the gate sees changed since; the state is quiet once the streak's pages went
 * round in full, as of the streak's first pass (`fullAt`): on a stack that fits one page of each pass, at once.
 */
function afterFullPass(
  previous: GateState | undefined,
  reading: GateReading,
  run: { startedAt: number; quiet: boolean; kinds: Record<string, Gvr[]>; pageMoves: readonly PageMove[] },
  changed: boolean,
  changedAt: number,
  settled: boolean,
): GateState {
  const base = { fingerprint: reading.fingerprint, changedAt, kinds: run.kinds };
  if (!run.quiet || !settled) return { ...base, fullAt: run.startedAt, quiet: false };
  const carried = !changed && previous?.quiet === false ? previous.streak : undefined;
  const streak = extendStreak(carried, run.startedAt, run.pageMoves);
  if (wentRound(streak)) return { ...base, fullAt: streak.since, quiet: true };
  return { ...base, fullAt: run.startedAt, quiet: false, streak };
}

/**
 * After a full pass whose gate could not be read (nor recorded): its pages were read but not judged for the streak, so
 * a streak under way starts over (one read; a write only when there is a streak).
 */
export async function breakStreak(store: Pick<RecoveryStore, 'sweepCursor' | 'putSweepCursor'>): Promise<void> {
  const state = parseState(await store.sweepCursor(GATE_KEY));
  if (state?.streak === undefined) return;
  const { streak: _dropped, ...rest } = state;
  await store.putSweepCursor(GATE_KEY, JSON.stringify(rest));
}

/** Records what this run saw, for the next run's decision. */
export async function recordGate(
  deps: Pick<RecoverySweepDeps, 'store'>,
  reading: GateReading,
  run: {
    startedAt: number;
    full: boolean;
    quiet: boolean;
    kinds: Record<string, Gvr[]>;
    settleSeconds: number;
    /** How the paged passes' cursors moved in this run (observeCursors); none: every pass read all in one page. */
    pageMoves?: readonly PageMove[];
  },
): Promise<void> {
  const previous = reading.state;
  const changed = previous === undefined || previous.fingerprint !== reading.fingerprint || reading.busy;
  const changedAt = changed ? run.startedAt : previous.changedAt;
  const settled = run.startedAt - changedAt >= run.settleSeconds * 1000;
  const next: GateState = run.full
    ? afterFullPass(previous, reading, { ...run, pageMoves: run.pageMoves ?? [] }, changed, changedAt, settled)
    : { ...(previous ?? { fullAt: 0, quiet: false, kinds: {} }), fingerprint: reading.fingerprint, changedAt };
  if (!sameForLaterRuns(previous, next, run.settleSeconds))
    await deps.store.putSweepCursor(GATE_KEY, JSON.stringify(next));
}

/**
 * Whether storing `next` over `previous` (what this run read) would change nothing a later run or reader decides on:
 * then the write is skipped, and an idle stack's runs write nothing (docs/recovery.md "Idle runs"). `fullAt` is read
 * only while the state is quiet (the skips it bounds, the chaos bench's "last quiet pass"); `changedAt` only to judge
 * whether a later pass is settled, which every pass is with no settle time.
 */
function sameForLaterRuns(previous: GateState | undefined, next: GateState, settleSeconds: number): boolean {
  if (previous === undefined) return false;
  if (previous.fingerprint !== next.fingerprint || previous.quiet !== next.quiet) return false;
  if (JSON.stringify(previous.kinds) !== JSON.stringify(next.kinds)) return false;
  if (JSON.stringify(previous.streak) !== JSON.stringify(next.streak)) return false;
  if (settleSeconds > 0 && previous.changedAt !== next.changedAt) return false;
  return !next.quiet || previous.fullAt === next.fullAt;
}

/** The namespaced resource types of `records`, each once. */
export function recordKinds(records: readonly SyncRecord[]): Gvr[] {
  const kinds = new Map<string, Gvr>();
  for (const { ref } of records)
    if (ref.namespace !== undefined)
      kinds.set(gvrKey(ref), { group: ref.group, version: ref.version, resource: ref.resource });
  return [...kinds.values()];
}
