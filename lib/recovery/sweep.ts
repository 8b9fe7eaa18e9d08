import type { ClusterInfo } from '../placement/types';
import type { SyncRecord } from '../ports/sync-state-store';
import { sweepPage } from './cursor';
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

/**
 * One run of the recovery manager (scheduled every minute). Per workspace and cluster it reads one page of the
 * cluster's sync items (a bounded Query on gsi1 `CLUSTER#<name>`, never a scan, resuming where the previous run
 * stopped: lib/recovery/cursor.ts) and its pending cleanups (one Query), then:
 * failover of evacuating clusters, graceful cleanup of copies left behind, stuck syncs, drift, orphans (drift and
 * orphans only on push-mode clusters: a pull-mode one's syncer owns them); then per
 * workspace the objects kcp stored whose placement message was lost (lib/recovery/unplaced.ts), the pairs whose sync
 * message was lost (lib/recovery/resync.ts) and the partial decisions a returned cluster may complete
 * (lib/recovery/partial.ts). Then the deletion
 * holds and the DLQs. One part failing (a cluster that does not answer) does not stop the others.
 */
export async function runRecoverySweep(deps: RecoverySweepDeps): Promise<RecoverySweepReport> {
  const report: RecoverySweepReport = { actions: {}, failures: [] };
  const guarded = async (what: string, step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (err) {
      report.failures.push(`${what}: ${errorMessage(err)}`);
      deps.log.warn(`Recovery step failed: ${what}`, { error: errorMessage(err) });
    }
  };
  // First: a lost admission's message, sent now, makes the passes below find its object placed.
  await guarded('sending held admissions', () => sendHeldAdmissions(deps, report));
  const clustersByWorkspace = new Map<string, string[]>();
  // Orphan scopes (workspace, cluster, type) where this sweep found nothing to delete: their holds are resolved.
  const quiet = new Set<string>();
  for (const workspace of deps.workspaces) {
    let clusters: ClusterInfo[] = [];
    await guarded(`listing the SyncTargets of ${workspace}`, async () => {
      clusters = await deps.inventory.list(workspace);
    });
    clustersByWorkspace.set(
      workspace,
      clusters.map((c) => c.name),
    );
    const kcpIndex: KcpIndex = new Map();
    for (const cluster of clusters) {
      let records: SyncRecord[] = [];
      await guarded(`reading the sync items of ${cluster.name}`, async () => {
        records = await sweepPage(deps, workspace, cluster.name);
      });
      const why = evacuationReason(cluster, deps.now());
      if (why) await guarded(`failing over ${cluster.name}`, () => evacuate(deps, report, cluster, records, why));
      await guarded(`cleaning up after failover on ${cluster.name}`, () => cleanUp(deps, report, cluster));
      // An Unhealthy cluster cannot be read or written: its stuck syncs, drift and orphans wait until it answers.
      if (cluster.health === 'Unhealthy') continue;
      await guarded(`re-enqueueing stuck syncs on ${cluster.name}`, () => resyncStuck(deps, report, cluster, records));
      // A pull-mode cluster is never called: its syncer applies and reports through the VW, so its drift and orphans
      // are the syncer's. Skipping says nothing about its copies; a failed mode read skips both and retries next run.
      let push = false;
      await guarded(`reading the sync mode of ${cluster.name}`, async () => {
        push = (await deps.kube.syncMode?.(workspace, cluster.name)) !== 'Pull';
      });
      if (!push) continue;
      await guarded(`checking drift on ${cluster.name}`, () => repairDrift(deps, report, cluster, records));
      await guarded(`removing orphans on ${cluster.name}`, () =>
        removeOrphans(deps, report, workspace, cluster, records, kcpIndex, quiet),
      );
    }
    await guarded(`asking placement about the unplaced objects of ${workspace}`, () =>
      resyncUnplaced(deps, report, workspace),
    );
    await guarded(`re-sending the lost sync messages of ${workspace}`, () =>
      resyncUnsynced(deps, report, workspace, clusters),
    );
    await guarded(`asking placement again about the partial decisions of ${workspace}`, () =>
      resyncPartial(deps, report, workspace, clusters),
    );
  }
  await guarded('tending deletion holds', () => tendHolds(deps, report, clustersByWorkspace, quiet));
  await guarded('redriving dead letters', () => redriveDeadLetters(deps, report));
  return report;
}
