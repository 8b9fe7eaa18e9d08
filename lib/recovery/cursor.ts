import type { SyncRecord } from '../ports/sync-state-store';
import { clusterPage, type ClusterCursors } from '../sync/cluster-page';
import type { RecoverySweepDeps } from './deps';

/**
 * The sync items one sweep examines on a cluster: at most `perClusterLimit`, resuming where the previous sweep of
 * this workspace and cluster stopped (lib/sync/cluster-page.ts), so a cluster with more items than one sweep reads is
 * covered over successive sweeps instead of its first page only.
 */
export async function sweepPage(deps: RecoverySweepDeps, workspace: string, cluster: string): Promise<SyncRecord[]> {
  const page = await clusterPage(
    deps.syncState,
    deps.store,
    `sweep|${workspace}|${cluster}`,
    cluster,
    deps.settings.perClusterLimit,
  );
  return page.filter((r) => r.ref.workspace === workspace);
}

/** The cursor item (`CURSOR#sweep-order`) naming the step a full pass starts with after a run was cut off. */
const ORDER_KEY = 'sweep-order';

/** Where a full pass starts in its steps, and what the order cursor held (undefined: not set, or unread). */
export interface SweepStart {
  start: number;
  stored: string | undefined;
}

/**
 * The step a full pass starts with: the one a cut-off run named (docs/recovery.md "Runs cut off by the deadline"),
 * else the first. A name no longer among `steps` (a cluster or workspace removed since) starts at the first.
 */
export async function sweepStart(cursors: ClusterCursors, steps: readonly string[]): Promise<SweepStart> {
  const stored = await cursors.sweepCursor(ORDER_KEY);
  const at = stored === undefined ? -1 : steps.indexOf(stored);
  return { start: Math.max(0, at), stored };
}

/**
 * The step the next full pass starts with, after this one ran `steps` in its rotated order and the invocation's
 * deadline cut it off in `steps[cutAt]` (undefined: it ran them all). The step cut off starts the next run, which
 * gives it the whole run; a run cut off in its very first step moves on to the one after it instead, so every run
 * moves the start on and every step starts a run within `steps.length` cut-off runs.
 */
export function nextSweepStart(steps: readonly string[], cutAt: number | undefined): string | undefined {
  if (cutAt === undefined || steps.length === 0) return undefined;
  return steps[cutAt === 0 ? 1 % steps.length : cutAt];
}

/** Stores where the next full pass starts (undefined clears it), writing only a change. */
export async function recordSweepStart(
  cursors: ClusterCursors,
  read: SweepStart,
  next: string | undefined,
): Promise<void> {
  if (next !== read.stored) await cursors.putSweepCursor(ORDER_KEY, next);
}
