import { describeRef, type ObjectRef } from '../api/object-ref';
import type { Metrics } from '../ports/telemetry';
import type { DeletionHold, RecoveryStore } from '../ports/recovery-store';
import type { SyncLog } from '../sync/sync-log';
import { DEFAULT_GUARD, deletionsSuspicious, type GuardSettings } from './rules';

/** Objects remembered per hold; the rest are found again by the next sweep or resync. */
const MAX_HELD_REFS = 200;

export const workspaceScope = (workspace: string): string => `workspace:${workspace}`;
export const clusterScope = (cluster: string): string => `cluster:${cluster}`;

/** Placement asks this before deleting an object that vanished from kcp (no deletionTimestamp was ever seen). */
export interface VanishedObjectGuard {
  admitVanished(ref: ObjectRef): Promise<'allow' | 'hold'>;
}

export interface DeletionGuardDeps {
  store: RecoveryStore;
  metrics: Metrics;
  log: SyncLog;
  now: () => number;
  settings?: GuardSettings;
}

/**
 * The guardrail against mass deletion (docs/recovery.md). An API outage that answers with empty lists or 404s looks,
 * to a reconciler, exactly like "everything was deleted". When deletions in one scope exceed the configured share,
 * tmc deletes nothing more there, records a hold (DynamoDB, a metric for the alarm, a condition on the SyncTargets)
 * and waits for `tmc recovery confirm <scope>`.
 */
export class DeletionGuard implements VanishedObjectGuard {
  private readonly settings: GuardSettings;
  private readonly totals = new Map<string, { total: number; at: number }>();

  constructor(private readonly deps: DeletionGuardDeps) {
    this.settings = deps.settings ?? DEFAULT_GUARD;
  }

  /** True while deletions in the scope may go ahead without the share check (a person confirmed). */
  private confirmed(hold: DeletionHold | undefined): boolean {
    return hold?.confirmedUntil !== undefined && hold.confirmedUntil > this.deps.now();
  }

  /**
   * A batch of deletions planned by a sweep (orphans on one cluster). Resolves 'allow' or 'hold'; on 'hold' nothing
   * of the batch may be deleted.
   */
  async admitBatch(scope: string, refs: ObjectRef[], total: number, why: string): Promise<'allow' | 'hold'> {
    if (refs.length === 0) return 'allow';
    const hold = await this.deps.store.hold(scope);
    if (this.confirmed(hold)) return 'allow';
    if (hold) return this.extend(hold, refs);
    if (!deletionsSuspicious(refs.length, total, this.settings)) return 'allow';
    return this.raise(scope, refs, refs.length, total, why);
  }

  async admitVanished(ref: ObjectRef): Promise<'allow' | 'hold'> {
    const scope = workspaceScope(ref.workspace);
    const hold = await this.deps.store.hold(scope);
    if (this.confirmed(hold)) return 'allow';
    if (hold) return this.extend(hold, [ref]);
    const now = this.deps.now();
    const windowMs = this.settings.windowSeconds * 1000;
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const count = await this.deps.store.countDeletion(scope, windowStart, this.settings.windowSeconds);
    if (count < this.settings.minDeletions) return 'allow';
    const total = await this.workspaceTotal(ref.workspace, now);
    if (!deletionsSuspicious(count, total, this.settings)) return 'allow';
    return this.raise(scope, [ref], count, total, `${count} objects of ${ref.workspace} vanished from kcp within ${this.settings.windowSeconds}s without being deleted`);
  }

  /** The workspace's object count, cached a minute: the burst path must not COUNT the partition per message. */
  private async workspaceTotal(workspace: string, now: number): Promise<number> {
    const cached = this.totals.get(workspace);
    if (cached && now - cached.at < 60_000) return cached.total;
    const total = await this.deps.store.countObjects(workspace);
    this.totals.set(workspace, { total, at: now });
    return total;
  }

  private async extend(hold: DeletionHold, refs: ObjectRef[]): Promise<'hold'> {
    const known = new Set(hold.refs.map((r) => JSON.stringify(r)));
    const added = refs.filter((r) => !known.has(JSON.stringify(r)));
    if (added.length && hold.refs.length < MAX_HELD_REFS) {
      await this.deps.store.putHold({ ...hold, refs: [...hold.refs, ...added].slice(0, MAX_HELD_REFS) });
    }
    return 'hold';
  }

  private async raise(scope: string, refs: ObjectRef[], planned: number, total: number, why: string): Promise<'hold'> {
    const at = new Date(this.deps.now()).toISOString();
    const reason = `${why}: ${planned} of ${total} objects would be deleted (more than ${Math.round(this.settings.maxShare * 100)}%). Nothing was deleted; if the deletions are intended run: tmc recovery confirm ${scope}`;
    this.deps.log.error(`Holding deletions in ${scope}`, { scope, planned, total, example: describeRef(refs[0]) });
    await this.deps.store.putHold({ scope, reason, planned, total, raisedAt: at, refs: refs.slice(0, MAX_HELD_REFS) });
    await this.deps.store.record({ action: 'deletion-hold', outcome: 'held', why: reason, at, ...scopeFields(scope) });
    this.deps.metrics.increment('tmc_recovery_actions_total', { action: 'deletion-hold', outcome: 'held' });
    this.deps.metrics.gauge('tmc_recovery_deletion_holds', { scope }, 1);
    return 'hold';
  }
}

export function scopeFields(scope: string): { workspace?: string; cluster?: string } {
  if (scope.startsWith('workspace:')) return { workspace: scope.slice('workspace:'.length) };
  if (scope.startsWith('cluster:')) return { cluster: scope.slice('cluster:'.length) };
  return {};
}

/**
 * A person's go-ahead (`tmc recovery confirm`): deletions in the scope proceed for `confirmSeconds`, and the next
 * sweep re-examines the held objects. Returns undefined when nothing is held there.
 */
export async function confirmDeletions(store: RecoveryStore, scope: string, by: string, now: number, settings: GuardSettings = DEFAULT_GUARD): Promise<DeletionHold | undefined> {
  const hold = await store.hold(scope);
  if (!hold) return undefined;
  const at = new Date(now).toISOString();
  const confirmed: DeletionHold = { ...hold, confirmedAt: at, confirmedBy: by, confirmedUntil: now + settings.confirmSeconds * 1000 };
  await store.putHold(confirmed);
  await store.record({ action: 'deletion-confirm', outcome: 'succeeded', why: `${by} confirmed the held deletions in ${scope}`, at, ...scopeFields(scope) });
  return confirmed;
}
