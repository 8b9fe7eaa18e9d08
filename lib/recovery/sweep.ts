import { randomUUID } from 'node:crypto';
import { objectKey, type ObjectRef } from '../api/object-ref';
import type { ClusterInfo } from '../placement/types';
import type { DeletionHold, RecoveryStore } from '../ports/recovery-store';
import type { SyncRecord } from '../ports/sync-state-store';
import { asTmcError, failedOnCluster, TmcError } from '../errors/tmc-error';
import { nextSweepStart, recordSweepStart, sweepPage, sweepStart, type SweepStart } from './cursor';
import type { DeletionGuard } from './deletion-guard';
import { errorMessage } from './error-message';
import { type RecoverySweepDeps, type RecoverySweepReport } from './deps';
import { redriveDeadLetters } from './dead-letters';
import { cleanUp, evacuate } from './failover';
import { tendHolds } from './holds';
import { removeOrphans, type KcpIndex } from './orphans';
import { resyncPartial } from './partial';
import { repairDrift, resyncStuck, resyncUnsynced } from './resync';
import { evacuationReason } from './rules';
import { resyncUnplaced } from './unplaced';
import { sendHeldAdmissions } from './held-admissions';
import {
  breakStreak,
  maySkip,
  observeCursors,
  readGate,
  recordGate,
  recordKinds,
  unsettledRecord,
  type GateReading,
  type SweepProgress,
} from './quiet-gate';

/** A promise's outcome as a value, so that one read early and awaited late is never an unhandled rejection. */
function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

type Guarded = (what: string, step: () => Promise<void>) => Promise<void>;

/**
 * What every run reads first, all at once (the held admissions, the SyncTargets, the gate's reads, the holds a skipped
 * run tends): a Lambda run is billed by its wall time, and an idle run is mostly waiting for these. No gate when the
 * SyncTargets or the held admissions could not be read; a held admission sent now counts as a busy queue.
 */
async function readFirst(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  guarded: Guarded,
): Promise<{
  inventories: Map<string, ClusterInfo[]>;
  gate: GateReading | undefined;
  holds: Promise<{ value: DeletionHold[] } | { error: unknown }> | undefined;
}> {
  const inventories = new Map<string, ClusterInfo[]>(deps.workspaces.map((workspace) => [workspace, []]));
  const listed = Promise.all(
    deps.workspaces.map((workspace) =>
      guarded(`listing the SyncTargets of ${workspace}`, async () => {
        inventories.set(workspace, await deps.inventory.list(workspace));
      }),
    ),
  ).then(() => inventories);
  const holds = deps.queueDepths ? settle(deps.store.holds()) : undefined;
  let gate: GateReading | undefined;
  await Promise.all([
    // A lost admission's message, sent now, makes the passes below find its object placed.
    guarded('sending held admissions', () => sendHeldAdmissions(deps, report)),
    listed,
    deps.queueDepths
      ? guarded('reading what changed since the last full pass', async () => {
          gate = await readGate(deps, listed);
        })
      : undefined,
  ]);
  if (report.failures.length > 0) gate = undefined;
  if (gate && Object.keys(report.actions).length > 0) gate = { ...gate, busy: true };
  return { inventories, gate, holds };
}

/**
 * The queue depths read at most once per run: the quiet gate's reading answers the anti-entropy and drift passes'
 * "is the sync queue busy" too (each asked anew, up to once per pair it judged). A reading a few seconds old is as
 * good as a new one for them: either way a busy queue defers a re-send (bounded by unsyncedQueuedMaxSeconds) and an
 * idle one lets it go (a duplicate apply at worst). A failed read is not kept: the next caller reads again.
 */
function withDepthsReadOncePerRun(deps: RecoverySweepDeps): RecoverySweepDeps {
  const read = deps.queueDepths;
  if (!read) return deps;
  let reading: ReturnType<typeof read> | undefined;
  const queueDepths = (): ReturnType<typeof read> =>
    (reading ??= read().catch((err: unknown) => {
      reading = undefined;
      throw err;
    }));
  return { ...deps, queueDepths };
}

/**
 * One run sights an object's absence once. Its first absence read (the orphan step's, on a copy; or the vanished-object
 * check's, on a decision) is the run's sighting, recorded with the run's name: only a later run's sighting confirms
 * it, never a second read of this run, however long the run took. The step that read first owns the object for the
 * run: another step's read of it answers "not confirmed" without a sighting, so one run never acts on one absence
 * twice (an orphan's copy deleted and, besides, placement asked to remove it by the vanished-object check).
 */
export function withOneAbsenceSightingPerRun(deps: RecoverySweepDeps): RecoverySweepDeps {
  const run = randomUUID();
  const sighted = new Set<string>();
  const guard = Object.create(deps.guard) as DeletionGuard;
  guard.observeAbsent = async (ref: ObjectRef): Promise<boolean> => {
    const key = objectKey(ref);
    if (sighted.has(key)) return false;
    sighted.add(key);
    return deps.guard.observeAbsent(ref, run);
  };
  return { ...deps, guard };
}

/** Set once a step failed at the invocation's deadline: every call after it would fail the same way. */
interface CutOff {
  off: boolean;
}

/** One part of a full pass a run cut off by the deadline stops before, named for the order cursor (cursor.ts). */
interface Step {
  key: string;
  run: () => Promise<void>;
}

/** What the steps of one workspace share: the kcp listings orphans compare with, and what the pages held. */
interface ClusterScope {
  workspace: string;
  cluster: ClusterInfo;
  kcpIndex: KcpIndex;
  quiet: Set<string>;
  seen: Map<string, SyncRecord[]>;
}

/**
 * One cluster's step: a page of its sync items, then failover, cleanups, stuck syncs, drift and orphans (drift and
 * orphans only on a push-mode cluster: a pull-mode one's syncer owns them).
 */
async function sweepCluster(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  guarded: Guarded,
  progress: SweepProgress,
  { workspace, cluster, kcpIndex, quiet, seen }: ClusterScope,
): Promise<void> {
  let records: SyncRecord[] = [];
  await guarded(`reading the sync items of ${cluster.name}`, async () => {
    records = await sweepPage(deps, workspace, cluster.name);
  });
  seen.get(workspace)?.push(...records);
  if (cluster.health !== 'Healthy') progress.unsettled.push(`${cluster.name} is ${cluster.health}`);
  if (records.some(unsettledRecord)) progress.unsettled.push(`${cluster.name} has unsettled sync items`);
  const why = evacuationReason(cluster, deps.now());
  if (why) await guarded(`failing over ${cluster.name}`, () => evacuate(deps, report, cluster, records, why));
  await guarded(`cleaning up after failover on ${cluster.name}`, async () => {
    if ((await cleanUp(deps, report, cluster)) > 0) progress.unsettled.push(`${cluster.name} has cleanups`);
  });
  // An Unhealthy cluster cannot be read or written: its stuck syncs, drift and orphans wait until it answers.
  if (cluster.health === 'Unhealthy') return;
  await guarded(`re-enqueueing stuck syncs on ${cluster.name}`, () => resyncStuck(deps, report, cluster, records));
  // A pull-mode cluster is never called: its syncer applies and reports through the VW, so its drift and orphans
  // are the syncer's. Skipping says nothing about its copies; a failed mode read skips both and retries next run.
  let push = false;
  await guarded(`reading the sync mode of ${cluster.name}`, async () => {
    push = (await deps.kube.syncMode?.(workspace, cluster.name)) !== 'Pull';
  });
  if (!push) return;
  await guarded(`checking drift on ${cluster.name}`, () => repairDrift(deps, report, cluster, records));
  await guarded(`removing orphans on ${cluster.name}`, () =>
    removeOrphans(deps, report, workspace, cluster, records, kcpIndex, quiet),
  );
}

/**
 * Runs the steps in turn from where the order cursor says (cursor.ts), stopping at the first one the deadline cut
 * off: the steps after it would fail at once, and the next run starts there instead of at the first step again, so no
 * workspace's passes starve behind another's slow clusters. A run that reached every step clears the cursor.
 */
async function runInTurn(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  guarded: Guarded,
  steps: readonly Step[],
  cut: CutOff,
): Promise<void> {
  // The reads before the steps were cut off already: none of them could run, and the start stays where it is.
  if (cut.off) return;
  let read: SweepStart = { start: 0, stored: undefined };
  await guarded('reading where the full pass starts', async () => {
    read = await sweepStart(
      deps.store,
      steps.map((s) => s.key),
    );
  });
  const turn = [...steps.slice(read.start), ...steps.slice(0, read.start)];
  let cutAt: number | undefined;
  for (const [i, step] of turn.entries()) {
    await step.run();
    if (cut.off) {
      cutAt = i;
      break;
    }
  }
  const keys = turn.map((s) => s.key);
  const next = nextSweepStart(keys, cutAt);
  if (cutAt !== undefined) {
    const waiting = keys.length - cutAt - 1;
    report.failures.push(
      `stopped at the invocation's deadline in ${keys[cutAt]}: ${waiting} steps not reached, the next run starts with ${next}`,
    );
    deps.log.warn("Recovery sweep stopped at the invocation's deadline", { step: keys[cutAt], waiting, next });
  }
  await guarded('recording where the next full pass starts', () => recordSweepStart(deps.store, read, next));
}

/**
 * One run of the recovery manager (scheduled every minute). Per workspace and cluster it reads one page of the
 * cluster's sync items (a bounded Query on gsi1 `CLUSTER#<name>`, never a scan, resuming where the previous run
 * stopped: lib/recovery/cursor.ts) and its pending cleanups (one Query), then:
 * failover of evacuating clusters, graceful cleanup of copies left behind, stuck syncs, drift, orphans (drift and
 * orphans only on push-mode clusters: a pull-mode one's syncer owns them); then per
 * workspace the objects kcp stored whose placement message was lost (lib/recovery/unplaced.ts), the pairs whose sync
 * message was lost (lib/recovery/resync.ts) and the partial decisions a returned cluster may complete
 * (lib/recovery/partial.ts). Then the deletion
 * holds and the DLQs. One part failing (a cluster that does not answer) does not stop the others; the invocation's
 * deadline does: the next run starts at the step it cut off (runInTurn, docs/recovery.md "Runs cut off by the deadline").
 *
 * With `deps.queueDepths`, a quiet gate runs first (lib/recovery/quiet-gate.ts, docs/recovery.md "Idle runs"): when
 * nothing it sees changed since a quiet full pass, the run tends only the holds.
 */
export async function runRecoverySweep(given: RecoverySweepDeps): Promise<RecoverySweepReport> {
  const deps = withOneAbsenceSightingPerRun(withDepthsReadOncePerRun(given));
  const report: RecoverySweepReport = { actions: {}, failures: [] };
  const cut: CutOff = { off: false };
  const guarded: Guarded = async (what, step) => {
    try {
      await step();
    } catch (err) {
      if (err instanceof TmcError && err.category === 'invocation-deadline') cut.off = true;
      const failures = failedOnCluster(asTmcError(err)) ? (report.clusterFailures ??= []) : report.failures;
      failures.push(`${what}: ${errorMessage(err)}`);
      deps.log.warn(`Recovery step failed: ${what}`, { error: errorMessage(err) });
    }
  };
  const startedAt = deps.now();
  const { inventories, gate, holds } = await readFirst(deps, report, guarded);
  const clustersByWorkspace = new Map([...inventories].map(([ws, cs]) => [ws, cs.map((c) => c.name)]));
  const allClusters = [...inventories.values()].flat();
  // No DLQ read either: a message reaches a DLQ only after its last delivery kept its queue busy (in flight), which
  // keeps the gate from skipping until a full pass has run after it; the full pass every fullPassSeconds reads them too.
  if (gate && holds && maySkip(gate, allClusters, startedAt, deps.settings)) {
    const store: RecoveryStore = Object.create(deps.store) as RecoveryStore;
    store.holds = async () => {
      const read = await holds;
      if ('error' in read) throw read.error;
      return read.value;
    };
    await guarded('tending deletion holds', () =>
      tendHolds({ ...deps, store }, report, clustersByWorkspace, new Set()),
    );
    return report;
  }
  const cursors = observeCursors(deps.store);
  const full: RecoverySweepDeps = { ...deps, store: cursors.store };
  const progress: SweepProgress = { unsettled: [] };
  // Orphan scopes (workspace, cluster, type) where this sweep found nothing to delete: their holds are resolved.
  const quiet = new Set<string>();
  const seen = new Map<string, SyncRecord[]>();
  const steps: Step[] = [];
  for (const [workspace, clusters] of inventories) {
    const kcpIndex: KcpIndex = new Map();
    seen.set(workspace, []);
    for (const cluster of clusters)
      steps.push({
        key: `cluster|${workspace}|${cluster.name}`,
        run: () => sweepCluster(full, report, guarded, progress, { workspace, cluster, kcpIndex, quiet, seen }),
      });
    steps.push(
      {
        key: `unplaced|${workspace}`,
        run: () =>
          guarded(`asking placement about the unplaced objects of ${workspace}`, () =>
            resyncUnplaced(full, report, workspace),
          ),
      },
      {
        key: `unsynced|${workspace}`,
        run: () =>
          guarded(`re-sending the lost sync messages of ${workspace}`, () =>
            resyncUnsynced(full, report, workspace, clusters),
          ),
      },
      {
        key: `partial|${workspace}`,
        run: () =>
          guarded(`asking placement again about the partial decisions of ${workspace}`, () =>
            resyncPartial(full, report, workspace, clusters),
          ),
      },
    );
  }
  steps.push(
    {
      key: 'holds',
      run: () => guarded('tending deletion holds', () => tendHolds(full, report, clustersByWorkspace, quiet)),
    },
    { key: 'dead-letters', run: () => guarded('redriving dead letters', () => redriveDeadLetters(full, report)) },
  );
  await runInTurn(full, report, guarded, steps, cut);
  const kinds = Object.fromEntries([...seen].map(([workspace, records]) => [workspace, recordKinds(records)]));
  if (!gate && deps.queueDepths) await guarded('starting the quiet streak over', () => breakStreak(deps.store));
  if (gate) {
    const reading = gate;
    const quietPass =
      Object.keys(report.actions).length === 0 &&
      report.failures.length === 0 &&
      progress.unsettled.length === 0 &&
      cursors.carryingOn().length === 0;
    await guarded('recording what the full pass saw', () =>
      recordGate(deps, reading, {
        startedAt,
        full: true,
        quiet: quietPass,
        kinds,
        settleSeconds: deps.settings.settleSeconds,
        pageMoves: cursors.pageMoves(),
      }),
    );
  }
  return report;
}
