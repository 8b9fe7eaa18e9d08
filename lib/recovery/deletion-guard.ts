import type { Clock } from '../ports/clock';
import { createHash } from 'node:crypto';
import { describeRef, gvrKey, objectKey, type ObjectRef } from '../api/object-ref';
import type { Metrics } from '../ports/telemetry';
import type { DeletionHold, RecoveryStore } from '../ports/recovery-store';
import type { Log } from '../observability/log';
import { absenceConfirmed, DEFAULT_GUARD, deletionsSuspicious, type GuardSettings } from './rules';

/** Objects remembered per hold; the rest are found again by the next sweep or resync. */
const MAX_HELD_REFS = 200;

type Gvr = Pick<ObjectRef, 'group' | 'version' | 'resource'>;

/** The orphan sweep's scope: one cluster, one workspace, one resource type (`cluster:east/root:default/apps/v1/deployments`). */
export const typeScope = (workspace: string, cluster: string, type: Gvr): string =>
  `cluster:${cluster}/${workspace}/${gvrKey(type)}`;
/** Placement's scope for objects that vanished from kcp: one workspace and resource type (`workspace:root:default/v1/configmaps`). */
export const vanishedScope = (workspace: string, type: Gvr): string => `workspace:${workspace}/${gvrKey(type)}`;
/** Placement's scope for removals its decisions make: one cluster, workspace and resource type (`unplace:east/root:default/apps/v1/deployments`). */
export const unplaceScope = (workspace: string, cluster: string, type: Gvr): string =>
  `unplace:${cluster}/${workspace}/${gvrKey(type)}`;

/** What a scope names: workspace and cluster names never contain `/`, so the first slashes split it. */
export function scopeFields(scope: string): { workspace?: string; cluster?: string; gvr?: string } {
  if (scope.startsWith('workspace:')) {
    const [workspace, ...gvr] = scope.slice('workspace:'.length).split('/');
    return { workspace, ...(gvr.length ? { gvr: gvr.join('/') } : {}) };
  }
  const clusterPrefix = ['cluster:', 'unplace:'].find((p) => scope.startsWith(p));
  if (clusterPrefix) {
    const [cluster, workspace, ...gvr] = scope.slice(clusterPrefix.length).split('/');
    return {
      cluster,
      ...(workspace !== undefined ? { workspace } : {}),
      ...(gvr.length ? { gvr: gvr.join('/') } : {}),
    };
  }
  return {};
}

/** One planned deletion's identity: the object and the uid of the source its copy was made from. */
const deletionId = (r: ObjectRef): string => `${objectKey(r)}|${r.uid ?? ''}`;

/** "The same answer": a hash of the identities of the deletions a sweep planned. */
function fingerprintOf(refs: ObjectRef[]): string {
  const ids = refs.map(deletionId).sort();
  return createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32);
}

/** What the guard lets through of a sweep's batch: the deletions admitted now, and how many it holds. */
export interface BatchVerdict {
  admitted: ObjectRef[];
  held: number;
}

const isNamespace = (ref: ObjectRef): boolean => ref.group === '' && ref.resource === 'namespaces';

/** 'allow': delete now; 'hold': kept until confirmed; 'wait': kept, ask again after `removalConfirmSeconds`. */
export type RemovalVerdict = 'allow' | 'hold' | 'wait';

/** As {@link RemovalVerdict}, or 'unconfirmed': no sweep has confirmed the absence yet (a 404 alone is no evidence). */
export type VanishedVerdict = RemovalVerdict | 'unconfirmed';

/** Placement asks this before deleting an object that vanished from kcp (no deletionTimestamp was ever seen). */
export interface VanishedObjectGuard {
  /** How long a counted deletion waits for the rest of its burst before it is made, seconds. */
  readonly removalConfirmSeconds: number;
  admitVanished(ref: ObjectRef): Promise<VanishedVerdict>;
}

/**
 * Placement asks this before a decision removes an object from a cluster it runs on (a Placement changed or was
 * deleted, a namespace relabelled): 'hold' and 'wait' keep the copy there.
 */
export interface RemovalGuard {
  /** How long a planned removal waits to be counted with the rest of its burst before it is made, seconds. */
  readonly removalConfirmSeconds: number;
  admitRemoval(ref: ObjectRef, cluster: string): Promise<RemovalVerdict>;
  /**
   * Counts a whole plan of removals (a fan-out's, before any of its messages goes out): each is recorded as planned,
   * and a scope the plan takes past the thresholds is held at once, so its removals are held all or none.
   */
  countPlan(removals: ReadonlyArray<{ ref: ObjectRef; cluster: string }>): Promise<void>;
}

export interface DeletionGuardDeps {
  store: RecoveryStore;
  metrics: Metrics;
  log: Log;
  now: Clock;
  settings?: GuardSettings;
}

/**
 * The one gate every inferred deletion passes (docs/recovery.md). An API outage that answers with empty lists or
 * 404s looks, to a reconciler, exactly like "everything was deleted", so:
 * - an object counts as gone only on positive evidence: a complete read found it absent, and a read at least
 *   `absentConfirmSeconds` later found it absent again (the absence ledger);
 * - deletions are counted per workspace, cluster and resource type; past the absolute or the relative threshold
 *   nothing more is deleted there, a hold is recorded (DynamoDB, a metric for the alarm, a condition on the
 *   SyncTargets) until `tmc recovery confirm <scope>`, or until the same deletions are planned again
 *   `recheckSeconds` later.
 */
export class DeletionGuard implements VanishedObjectGuard, RemovalGuard {
  private readonly settings: GuardSettings;
  private readonly totals = new Map<string, { total: number; at: number }>();

  constructor(private readonly deps: DeletionGuardDeps) {
    this.settings = deps.settings ?? DEFAULT_GUARD;
  }

  /** True while deletions in the scope may go ahead without the threshold check (a person, or the recheck, confirmed). */
  private confirmed(hold: DeletionHold | undefined): boolean {
    return hold?.confirmedUntil !== undefined && hold.confirmedUntil > this.deps.now();
  }

  /**
   * A batch of deletions planned by a sweep (the orphans of one type on one cluster) out of `total` such objects.
   * Resolves the deletions that may go ahead now: all of them, none (a new hold), or under a hold those the sweep
   * has planned without a break for `recheckSeconds` (see {@link recheck}).
   */
  async admitBatch(scope: string, refs: ObjectRef[], total: number, why: string): Promise<BatchVerdict> {
    const all = { admitted: refs, held: 0 };
    if (refs.length === 0) return all;
    const hold = await this.deps.store.hold(scope);
    if (this.confirmed(hold)) return all;
    const fingerprint = fingerprintOf(refs);
    if (hold) return this.recheck(hold, refs, total, fingerprint);
    if (!deletionsSuspicious(refs.length, total, this.settings)) return all;
    await this.raise(scope, refs, refs.length, total, why, fingerprint);
    return { admitted: [], held: refs.length };
  }

  /**
   * An object a complete read of kcp found absent (not in its type's list, and a direct GET answered NotFound).
   * Records the first sighting; true only when an earlier sighting, `absentConfirmSeconds` or more before and made by
   * another sweep run than `run` (the caller's run), confirms it.
   */
  async observeAbsent(ref: ObjectRef, run?: string): Promise<boolean> {
    const now = this.deps.now();
    const seen = await this.deps.store.absence(ref);
    // A sighting of the same sweep run (another step reading kcp seconds later) is not a second sighting.
    const laterRun = run === undefined || seen?.firstSeenRun !== run;
    if (seen && laterRun && absenceConfirmed(seen.firstSeenAt, now, this.settings)) {
      if (seen.confirmedAt === undefined) await this.deps.store.putAbsence({ ...seen, confirmedAt: now });
      return true;
    }
    // Never seen, or seen so long ago that it proves nothing about now: this read is the first sighting.
    if (!seen || now - seen.firstSeenAt > this.settings.absentForgetSeconds * 1000)
      await this.deps.store.putAbsence({ ref, firstSeenAt: now, ...(run !== undefined ? { firstSeenRun: run } : {}) });
    return false;
  }

  /** kcp has the object (a read found it): an earlier sighting of its absence was wrong. */
  async observePresent(ref: ObjectRef): Promise<void> {
    await this.deps.store.clearAbsence(ref);
  }

  async admitVanished(ref: ObjectRef): Promise<VanishedVerdict> {
    // A 404 on an object tmc placed is not evidence: only an absence the sweep confirmed is (list, GET, again later).
    // A Namespace is exempt: its downstream copy goes with its last object (lib/sync), so its removal deletes nothing.
    if (!isNamespace(ref)) {
      const absence = await this.deps.store.absence(ref);
      if (
        absence?.confirmedAt === undefined ||
        this.deps.now() - absence.confirmedAt > this.settings.absentForgetSeconds * 1000
      )
        return 'unconfirmed';
      if (absence.ref.uid && ref.uid && absence.ref.uid !== ref.uid) return 'unconfirmed'; // another object of that name
    }
    return this.admitCounted(
      vanishedScope(ref.workspace, ref),
      ref,
      (count) =>
        `${count} ${ref.resource} of ${ref.workspace} vanished from kcp within ${this.settings.windowSeconds}s without being deleted`,
    );
  }

  get removalConfirmSeconds(): number {
    return this.settings.removalConfirmSeconds;
  }

  /**
   * A removal a decision computed from complete reads makes is real, but a burst of them (every Placement deleted, a
   * selector that no longer matches) is held like any other mass deletion. Removals arrive one object at a time, from
   * many invocations, so each is first counted (a planned removal in the scope) and made only once it has waited
   * `removalConfirmSeconds`: by then the rest of its burst is counted too, and past the thresholds nothing of it is
   * deleted. A few objects moving wait that long and go.
   */
  async admitRemoval(ref: ObjectRef, cluster: string): Promise<RemovalVerdict> {
    return this.admitCounted(
      unplaceScope(ref.workspace, cluster, ref),
      ref,
      (count) =>
        `${count} ${ref.resource} of ${ref.workspace} would be removed from ${cluster} by placement decisions within ${this.settings.windowSeconds}s`,
    );
  }

  async countPlan(removals: ReadonlyArray<{ ref: ObjectRef; cluster: string }>): Promise<void> {
    const byScope = new Map<string, ObjectRef[]>();
    for (const { ref, cluster } of removals) {
      const scope = unplaceScope(ref.workspace, cluster, ref);
      byScope.set(scope, [...(byScope.get(scope) ?? []), ref]);
    }
    const now = this.deps.now();
    const since = now - this.settings.windowSeconds * 1000;
    for (const [scope, refs] of byScope) {
      const hold = await this.deps.store.hold(scope);
      if (this.confirmed(hold)) continue;
      for (const ref of refs) await this.deps.store.noteRemoval(scope, ref, now, since);
      if (hold) {
        await this.extend(hold, refs);
        continue;
      }
      const planned = await this.deps.store.plannedRemovals(scope, since);
      const count = Math.max(refs.length, planned.length);
      const first = refs[0]!;
      const total = await this.typeTotal(first, now);
      if (!deletionsSuspicious(count, total, this.settings)) continue;
      const cluster = scopeFields(scope).cluster ?? '';
      const known = new Set(refs.map((r) => objectKey(r)));
      await this.raise(
        scope,
        [...refs, ...planned.map((p) => p.ref).filter((r) => !known.has(objectKey(r)))],
        count,
        total,
        `${count} ${first.resource} of ${first.workspace} would be removed from ${cluster} by one change to where the workspace's objects go (counted before any was removed)`,
      );
    }
  }

  /**
   * Placement's deletions arrive one object at a time, from many invocations, so each is first counted (a planned
   * removal in the scope, once per object in the window) and made only once it has waited `removalConfirmSeconds`:
   * by then the rest of its burst is counted too, and past the thresholds nothing of it is deleted.
   */
  private async admitCounted(scope: string, ref: ObjectRef, why: (count: number) => string): Promise<RemovalVerdict> {
    const hold = await this.deps.store.hold(scope);
    if (this.confirmed(hold)) return 'allow';
    const now = this.deps.now();
    const since = now - this.settings.windowSeconds * 1000;
    // Recorded even under a hold: its own list is bounded and concurrent extensions may overwrite each other, while
    // every planned removal is its own item, which the sweep asks placement about again once the hold is confirmed.
    const firstPlanned = await this.deps.store.noteRemoval(scope, ref, now, since);
    if (hold) return this.extend(hold, [ref]);
    const planned = await this.deps.store.plannedRemovals(scope, since);
    const count = Math.max(1, planned.length);
    if (count >= this.settings.minDeletions || count > this.settings.maxDeletions) {
      const total = await this.typeTotal(ref, now);
      if (deletionsSuspicious(count, total, this.settings)) {
        const refs = [ref, ...planned.map((p) => p.ref).filter((r) => objectKey(r) !== objectKey(ref))];
        return this.raise(scope, refs, count, total, why(count));
      }
    }
    return now - firstPlanned >= this.settings.removalConfirmSeconds * 1000 ? 'allow' : 'wait';
  }

  /**
   * The objects whose removal a held un-placement kept: those it names and every removal planned in its scope around
   * it (its list is bounded and its extensions may race; the planned removals are each their own item).
   */
  async heldRemovals(hold: DeletionHold): Promise<ObjectRef[]> {
    if (hold.scope.startsWith('cluster:')) return hold.refs;
    const planned = await this.deps.store.plannedRemovals(
      hold.scope,
      Date.parse(hold.raisedAt) - this.settings.windowSeconds * 1000,
    );
    const refs = new Map(hold.refs.map((r) => [objectKey(r), r]));
    for (const p of planned) if (!refs.has(objectKey(p.ref))) refs.set(objectKey(p.ref), p.ref);
    return [...refs.values()];
  }

  /** The workspace's decided objects of the ref's type, cached a minute: the burst path must not COUNT per message. */
  private async typeTotal(ref: ObjectRef, now: number): Promise<number> {
    const key = vanishedScope(ref.workspace, ref);
    const cached = this.totals.get(key);
    if (cached && now - cached.at < 60_000) return cached.total;
    const total = await this.deps.store.countObjects(ref.workspace, ref);
    this.totals.set(key, { total, at: now });
    return total;
  }

  /**
   * A held scope planned again. Each deletion the sweep has planned in every look since at least `recheckSeconds` ago
   * goes ahead (kcp kept giving the same answer about it: not a blip); one planned later waits its own delay, so
   * steady churn (new orphans joining the plan) never holds the older ones for good. When every planned deletion has
   * waited that long the hold is released, as "the same answer seen again".
   */
  private async recheck(
    hold: DeletionHold,
    refs: ObjectRef[],
    total: number,
    fingerprint: string,
  ): Promise<BatchVerdict> {
    const now = this.deps.now();
    const recheckMs = this.settings.recheckSeconds * 1000;
    // A hold written before per-object times were kept: its objects count from when its answer was first given.
    const before =
      hold.plannedSince ??
      Object.fromEntries(hold.refs.map((r) => [deletionId(r), Date.parse(hold.answerSince ?? hold.raisedAt)]));
    const plannedSince: Record<string, number> = {};
    for (const r of refs.slice(0, MAX_HELD_REFS)) plannedSince[deletionId(r)] = before[deletionId(r)] ?? now;
    const ripe = refs.filter((r) => {
      const since = plannedSince[deletionId(r)];
      return since !== undefined && now - since >= recheckMs;
    });
    if (ripe.length === refs.length) {
      const since = Math.min(...ripe.map((r) => plannedSince[deletionId(r)] ?? now));
      await this.release(
        hold,
        refs.length,
        `kcp gave the same answer for ${Math.round((now - since) / 1000)}s: the ${refs.length} held deletion(s) in ${hold.scope} go ahead, each once its absence is confirmed`,
      );
      return { admitted: refs, held: 0 };
    }
    const changed = hold.fingerprint !== fingerprint;
    // The same set as last time, with its times recorded: nothing to write.
    if (changed || hold.plannedSince === undefined)
      await this.deps.store.putHold({
        ...hold,
        planned: refs.length,
        total,
        fingerprint,
        ...(changed ? { answerSince: new Date(now).toISOString() } : {}),
        refs: refs.slice(0, MAX_HELD_REFS),
        plannedSince,
      });
    if (ripe.length)
      this.deps.log.warn(`Letting ${ripe.length} held deletion(s) in ${hold.scope} go ahead`, {
        scope: hold.scope,
        planned: refs.length,
        ripe: ripe.length,
        ...scopeFields(hold.scope),
      });
    return { admitted: ripe, held: refs.length - ripe.length };
  }

  /**
   * A held un-placement (`unplace:` scope) `recheckSeconds` after it was raised: released, so that placement, asked
   * again about the held objects, decides from fresh reads and removes what it still removes (the same answer seen
   * again); an object a restored Placement selects again stays. Other holds, and younger ones, are returned as they are.
   */
  async recheckRemovals(hold: DeletionHold): Promise<DeletionHold> {
    const now = this.deps.now();
    const since = Date.parse(hold.answerSince ?? hold.raisedAt);
    if (
      !hold.scope.startsWith('unplace:') ||
      this.confirmed(hold) ||
      hold.confirmedUntil !== undefined ||
      now - since < this.settings.recheckSeconds * 1000
    )
      return hold;
    return this.release(
      hold,
      hold.planned,
      `${Math.round((now - since) / 1000)}s after the removals in ${hold.scope} were held, placement is asked again: what its decisions still remove goes ahead`,
    );
  }

  private async release(hold: DeletionHold, planned: number, why: string): Promise<DeletionHold> {
    const now = this.deps.now();
    const at = new Date(now).toISOString();
    this.deps.log.warn(`Releasing the held deletions in ${hold.scope}`, {
      scope: hold.scope,
      planned,
      ...scopeFields(hold.scope),
    });
    const released: DeletionHold = {
      ...hold,
      confirmedAt: at,
      confirmedBy: 'tmc (same answer after the recheck delay)',
      confirmedUntil: now + this.settings.confirmSeconds * 1000,
    };
    await this.deps.store.putHold(released);
    await this.deps.store.record({
      action: 'deletion-hold',
      outcome: 'released',
      why,
      at,
      ...actionFields(hold.scope),
    });
    this.deps.metrics.increment('tmc_recovery_actions_total', { action: 'deletion-hold', outcome: 'released' });
    return released;
  }

  private async extend(hold: DeletionHold, refs: ObjectRef[]): Promise<'hold'> {
    const known = new Set(hold.refs.map((r) => JSON.stringify(r)));
    const added = refs.filter((r) => !known.has(JSON.stringify(r)));
    if (added.length && hold.refs.length < MAX_HELD_REFS) {
      await this.deps.store.putHold({ ...hold, refs: [...hold.refs, ...added].slice(0, MAX_HELD_REFS) });
    }
    return 'hold';
  }

  private async raise(
    scope: string,
    refs: ObjectRef[],
    planned: number,
    total: number,
    why: string,
    fingerprint?: string,
  ): Promise<'hold'> {
    const at = new Date(this.deps.now()).toISOString();
    const { maxDeletions, maxShare } = this.settings;
    const rule = planned > maxDeletions ? `more than ${maxDeletions}` : `more than ${Math.round(maxShare * 100)}%`;
    const reason = `${why}: ${planned} of ${total} objects would be deleted (${rule}). Nothing was deleted; if the deletions are intended run: tmc recovery confirm ${scope}`;
    const created = await this.deps.store.createHold({
      scope,
      reason,
      planned,
      total,
      raisedAt: at,
      refs: refs.slice(0, MAX_HELD_REFS),
      ...(fingerprint
        ? {
            fingerprint,
            answerSince: at,
            plannedSince: Object.fromEntries(refs.slice(0, MAX_HELD_REFS).map((r) => [deletionId(r), Date.parse(at)])),
          }
        : {}),
    });
    if (!created) {
      // Raised by a concurrent invocation that crossed the threshold too: held all the same, reported once (by it).
      const raised = await this.deps.store.hold(scope);
      return raised ? this.extend(raised, refs) : 'hold';
    }
    this.deps.log.error(`Holding deletions in ${scope}`, {
      scope,
      planned,
      total,
      example: describeRef(refs[0]),
      ...scopeFields(scope),
    });
    await this.deps.store.record({ action: 'deletion-hold', outcome: 'held', why: reason, at, ...actionFields(scope) });
    this.deps.metrics.increment('tmc_recovery_actions_total', { action: 'deletion-hold', outcome: 'held' });
    this.deps.metrics.gauge('tmc_recovery_deletion_holds', { scope }, 1);
    return 'hold';
  }
}

/** The workspace and cluster a recorded action names. */
export function actionFields(scope: string): { workspace?: string; cluster?: string } {
  const { workspace, cluster } = scopeFields(scope);
  return { ...(workspace !== undefined ? { workspace } : {}), ...(cluster !== undefined ? { cluster } : {}) };
}

/**
 * A person's go-ahead (`tmc recovery confirm`): deletions in the scope proceed for `confirmSeconds`, and the next
 * sweep re-examines the held objects. Returns undefined when nothing is held there.
 */
export async function confirmDeletions(
  store: RecoveryStore,
  scope: string,
  by: string,
  now: number,
  settings: GuardSettings = DEFAULT_GUARD,
): Promise<DeletionHold | undefined> {
  const hold = await store.hold(scope);
  if (!hold) return undefined;
  const at = new Date(now).toISOString();
  const confirmed: DeletionHold = {
    ...hold,
    confirmedAt: at,
    confirmedBy: by,
    confirmedUntil: now + settings.confirmSeconds * 1000,
  };
  await store.putHold(confirmed);
  await store.record({
    action: 'deletion-confirm',
    outcome: 'succeeded',
    why: `${by} confirmed the held deletions in ${scope}`,
    at,
    ...actionFields(scope),
  });
  return confirmed;
}
