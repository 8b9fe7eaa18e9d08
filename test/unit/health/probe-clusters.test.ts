import type { PlacementMessage } from '../../../lib/api/messages';
import { probeClusters } from '../../../lib/health/probe-clusters';
import { makeClusterFailureReporter } from '../../../lib/health/report-cluster-failure';
import { ClusterUnreachableError, ConflictError } from '../../../lib/errors/tmc-error';
import { InMemoryHealthStore } from '../../../lib/ports/health-store';
import type { WorkQueue } from '../../../lib/ports/work-queue';
import { FakeKcp, fakeConnector, syncTarget } from './fake-kube';

function recordingQueue(): WorkQueue<PlacementMessage> & { sent: PlacementMessage[] } {
  const sent: PlacementMessage[] = [];
  return { name: 'placement', sent, send: async (messages) => void sent.push(...messages) };
}

describe('probeClusters', () => {
  it('records health, writes SyncTarget status only on change, and enqueues placement on Unhealthy transitions', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const kcp = new FakeKcp([syncTarget('east'), syncTarget('west')]);
    const up = new Map([['east', true], ['west', true]]);
    const store = new InMemoryHealthStore();
    const queue = recordingQueue();
    const run = async (): Promise<Awaited<ReturnType<typeof probeClusters>>> => {
      const report = await probeClusters({ connector: fakeConnector(kcp, up), store, placementQueue: queue, workspaces: ['root:default'], now: () => now });
      now += 60_000;
      return report;
    };

    expect(await run()).toMatchObject({ probed: 2, statusWrites: 2, failures: [] });
    expect(await run()).toMatchObject({ statusWrites: 0 }); // nothing changed, heartbeat not due
    up.set('east', false);
    expect((await run()).statusWrites).toBe(1); // east: Degraded, HeartbeatHealthy False
    expect((await run()).statusWrites).toBe(0); // still Degraded, same message
    const third = await run();
    expect(third).toMatchObject({ statusWrites: 1, placementMessages: 1, transitions: [{ cluster: 'east', from: 'Degraded', to: 'Unhealthy' }] });
    expect((await store.getCluster('east'))?.state).toBe('Unhealthy');
    const east = kcp.syncTargets.find((t) => t.metadata.name === 'east');
    expect((east?.status as { conditions: Array<{ type: string; status: string }> }).conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'False' })]),
    );
    expect(queue.sent[0]).toMatchObject({ type: 'placement', reason: 'cluster-change', ref: { workspace: 'root:default', group: 'workload.kcp.io', resource: 'synctargets', kind: 'SyncTarget', name: 'east' } });

    up.set('east', true);
    // east's conditions change; west's heartbeat comes due (5 min since its first write): two writes.
    expect(await run()).toMatchObject({ statusWrites: 2, placementMessages: 1, transitions: [{ cluster: 'east', from: 'Unhealthy', to: 'Healthy' }] });
    expect((await run()).statusWrites).toBe(0);
  });

  it('reports a kcp outage as a failure and keeps going', async () => {
    const connector = { ...fakeConnector(new FakeKcp([]), new Map()), kcp: async (): Promise<never> => Promise.reject(new ClusterUnreachableError('kcp down')) };
    const report = await probeClusters({ connector, store: new InMemoryHealthStore(), workspaces: ['root:a', 'root:b'] });
    expect(report.failures).toHaveLength(2);
  });
});

describe('reportClusterFailure', () => {
  it('feeds cluster-unreachable failures into health at once and ignores other categories', async () => {
    const store = new InMemoryHealthStore();
    const queue = recordingQueue();
    const report = makeClusterFailureReporter({ store, placementQueue: queue, now: () => Date.parse('2026-01-01T00:00:00Z') });
    expect(await report('east', new ConflictError('409'))).toBeUndefined();
    await report('east', new ClusterUnreachableError('ECONNREFUSED'), { workspace: 'root:default' });
    await report('east', new ClusterUnreachableError('ECONNREFUSED'), { workspace: 'root:default' });
    expect(queue.sent).toHaveLength(0);
    const change = await report('east', new ClusterUnreachableError('ECONNREFUSED'), { workspace: 'root:default' });
    expect(change?.next).toMatchObject({ state: 'Unhealthy', reason: 'SyncUnreachable', consecutiveFailures: 3 });
    expect(queue.sent).toHaveLength(1);
  });
});
