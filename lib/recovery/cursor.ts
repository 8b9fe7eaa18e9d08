import type { SyncRecord } from '../ports/sync-state-store';
import { clusterPage } from '../sync/cluster-page';
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
