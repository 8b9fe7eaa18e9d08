import type { SyncMessage } from '../api/messages';

/**
 * The change feed of pull-mode SyncTargets: tells a SyncTarget's connected syncers that an object placed there needs
 * reconciling. Best effort by design: a syncer that is not connected (or misses a push) finds the work when it lists
 * its SyncTarget's items on (re)connect and on every resync (docs/virtual-workspace.md).
 */
export interface SyncerFeed {
  notify(workspace: string, cluster: string, messages: readonly SyncMessage[]): Promise<void>;
}
