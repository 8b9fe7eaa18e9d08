import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import type { SyncMode } from '../../../lib/api/crds/sync-target';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeClient, KubeConnector } from '../../../lib/ports/kube-client';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import { mirror, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const configMap = (name: string): ObjectRef => ({
  workspace: WS,
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespace: 'default',
  name,
});

/**
 * The sweep's connector with `lab` in pull mode: `cluster('lab')` is refused as the real connector refuses it, and
 * every call to a cluster is counted.
 */
function pullAware(inner: KubeConnector): { kube: KubeConnector; clusterCalls: string[]; modeReads: string[] } {
  const clusterCalls: string[] = [];
  const modeReads: string[] = [];
  const kube: KubeConnector = {
    kcp: (workspace) => inner.kcp(workspace),
    cluster: async (workspace, syncTarget): Promise<KubeClient> => {
      clusterCalls.push(syncTarget);
      if (syncTarget === 'lab')
        throw new Error(`SyncTarget lab in ${workspace} is in pull mode: its syncer applies its work`);
      return inner.cluster(workspace, syncTarget);
    },
    syncMode: async (_workspace, syncTarget): Promise<SyncMode> => {
      modeReads.push(syncTarget);
      return syncTarget === 'lab' ? 'Pull' : 'Push';
    },
    forget: (workspace, syncTarget) => inner.forget(workspace, syncTarget),
  };
  return { kube, clusterCalls, modeReads };
}

/**
 * A workspace with a push cluster (`east`) and a pull cluster (`lab`), both holding applied copies: the sweep's drift
 * and orphan checks read `east` and never call `lab` (its syncer owns them), and the skip is no failure.
 */
describe('recovery sweep: pull-mode clusters', () => {
  let w: RecoveryWorld;

  beforeAll(async () => {
    w = await startRecoveryWorld();
    const inventory = new DynamoClusterInventory(w.world.doc, w.world.tableName);
    await inventory.putMirror(mirror('east'));
    await inventory.putMirror(mirror('lab'));
    const at = new Date(w.clock.now - 10 * 60_000).toISOString();
    for (const cluster of ['east', 'lab']) {
      const ref = configMap(`on-${cluster}`);
      await w.world.putDecision(ref, 1, [{ name: cluster }]);
      await w.world.syncState.put({
        ref,
        cluster,
        state: 'applied',
        decisionVersion: 1,
        appliedGeneration: 1,
        appliedAt: at,
        updatedAt: at,
      });
    }
  });
  afterAll(async () => {
    await w?.close();
  });

  it('checks drift and orphans on the push cluster only and records no failure for the pull one', async () => {
    const { kube, clusterCalls, modeReads } = pullAware(w.kube);
    const report = await runRecoverySweep({ ...w.deps(), kube });

    expect(report.failures).toEqual([]);
    expect(report.actions).toEqual({});
    expect(clusterCalls.filter((c) => c === 'lab')).toEqual([]);
    // Drift (one sampled copy) and orphans (one type) still read east.
    expect(clusterCalls.filter((c) => c === 'east')).toHaveLength(2);
    expect(modeReads.sort()).toEqual(['east', 'lab']);
    // The skip is no evidence: lab's copy is still recorded as applied.
    expect(await w.world.syncState.get(configMap('on-lab'), 'lab')).toMatchObject({ state: 'applied' });
  });
});
