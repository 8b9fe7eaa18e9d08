import { systemClock } from '../ports/clock';
import type { SyncMessage } from '../api/messages';
import { describeRef, gvrKey } from '../api/object-ref';
import { asTmcError } from '../errors/tmc-error';
import type { SyncApplyDeps } from './deps';

/**
 * sync-apply's step for a pull-mode SyncTarget: no call to the cluster. The pair's SYNC item is made to exist (pending)
 * so the syncer's list finds it even if the push below is lost, then the syncer is told. The syncer reconciles with
 * the same sync code (lib/sync/apply.ts) and writes the outcome back through the virtual workspace.
 */
export async function forwardToSyncer(deps: SyncApplyDeps, message: SyncMessage): Promise<void> {
  const { ref, cluster } = message;
  const existing = await deps.syncState.get(ref, cluster);
  // A listed item: anything not deleted, or deleted and placed again (an item newer than the delete it records).
  const listed =
    existing !== undefined &&
    (existing.state !== 'deleted' ||
      message.action === 'delete' ||
      message.decisionVersion <= existing.decisionVersion);
  if (!listed) {
    const at = new Date((deps.now ?? systemClock)()).toISOString();
    await deps.syncState.put({
      ...(existing ?? { appliedGeneration: 0 }),
      ref,
      cluster,
      state: 'pending',
      decisionVersion: Math.max(message.decisionVersion, existing?.decisionVersion ?? 0),
      updatedAt: at,
    });
  }
  deps.log.info(`Handing ${describeRef(ref)} to the syncer of ${cluster}`, { cluster, gvr: gvrKey(ref) });
  await deps.syncers?.notify(ref.workspace, cluster, [message]).catch((err: unknown) =>
    // Its list on reconnect and its resync find the item: a lost push delays, never loses, the change.
    deps.log.warn(`Could not notify the syncer of ${cluster}`, { cluster, error: asTmcError(err).toJSON() }),
  );
}
