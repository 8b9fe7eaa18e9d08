import type { KubeObject } from '../../lib/kube/object';
import type { LocalStack } from '../../lib/local/stack';
import { noMetrics } from '../../lib/ports/telemetry';
import { createLogger } from '../../lib/runtime/logger';
import { fromPowertools } from '../../lib/runtime/logger';
import { Syncer } from '../../lib/syncer/syncer';

const SYNC_TARGETS = { group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets' };
const SCHEDULED = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

/**
 * The bench's pull mode: one `tmc syncer` per pull cluster of the stack, in this process (the code `tmc syncer` runs,
 * through the stack's virtual workspace and change feed), started before the phases and Ready before they begin.
 * `qps`/`burst` are raised above the command's defaults (20/40) so the syncers' own rate limit is not what is measured.
 */
export async function startPullSyncers(
  stack: LocalStack,
  options: { qps: number; timeoutMs: number },
): Promise<{ stop(): Promise<void> }> {
  const sim = stack.simulation;
  if (!sim) throw new Error('Pull mode in the benchmark needs the simulator');
  const log = fromPowertools(createLogger('syncer'));
  const syncers: Syncer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(syncers.map((s) => s.stop()));
  };
  try {
    for (const [name, kcpKubeconfig] of Object.entries(stack.syncerKubeconfigs)) {
      const uid = sim.kcp.store(stack.workspace).get(SYNC_TARGETS, undefined, name)?.metadata.uid;
      if (uid === undefined) throw new Error(`The stack registered no SyncTarget ${name}`);
      const syncer = await Syncer.create({
        syncTargetName: name,
        syncTargetUid: uid,
        workspace: stack.workspace,
        kcpKubeconfig,
        clusterKubeconfig: stack.clusterKubeconfigs[name],
        // Changes arrive by the change feed; a full pass during a phase would only add reads.
        resyncSeconds: 3600,
        heartbeatSeconds: 30,
        qps: options.qps,
        burst: options.qps,
        log,
        metrics: noMetrics,
      });
      syncers.push(syncer);
      await syncer.run();
    }
    // The SyncTargets turn Ready from the heartbeats once health-probe has judged them (it runs on no timer here).
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      await stack.invoke('health-probe', SCHEDULED);
      await stack.idle({ timeoutMs: options.timeoutMs });
      const notReady = syncers.filter(
        (s) => !isReady(sim.kcp.store(stack.workspace).get(SYNC_TARGETS, undefined, s.options.syncTargetName)),
      );
      if (notReady.length === 0) break;
      if (Date.now() > deadline)
        throw new Error(`SyncTargets ${notReady.map((s) => s.options.syncTargetName).join(', ')} never turned Ready`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return { stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function isReady(object: KubeObject | undefined): boolean {
  const status = object?.status;
  if (typeof status !== 'object' || status === null || !('conditions' in status) || !Array.isArray(status.conditions))
    return false;
  return status.conditions.some(
    (c: unknown) =>
      typeof c === 'object' && c !== null && 'type' in c && c.type === 'Ready' && 'status' in c && c.status === 'True',
  );
}
