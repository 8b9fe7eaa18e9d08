import type { PlacementMessage } from '../../../lib/api/messages';
import { probeClusters } from '../../../lib/health/probe-clusters';
import { makeClusterFailureReporter } from '../../../lib/health/report-cluster-failure';
import { recordClusterObservation } from '../../../lib/health/record-observation';
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
    const up = new Map([
      ['east', true],
      ['west', true],
    ]);
    const store = new InMemoryHealthStore();
    const queue = recordingQueue();
    const run = async (): Promise<Awaited<ReturnType<typeof probeClusters>>> => {
      const report = await probeClusters({
        connector: fakeConnector(kcp, up),
        store,
        placementQueue: queue,
        workspaces: ['root:default'],
        now: () => now,
      });
      now += 60_000;
      return report;
    };

    expect(await run()).toMatchObject({ probed: 2, statusWrites: 2, failures: [] });
    expect(await run()).toMatchObject({ statusWrites: 0 }); // nothing changed, heartbeat not due
    up.set('east', false);
    expect((await run()).statusWrites).toBe(1); // east: Degraded, HeartbeatHealthy False
    expect((await run()).statusWrites).toBe(0); // still Degraded, same message
    const third = await run();
    expect(third).toMatchObject({
      statusWrites: 1,
      placementMessages: 1,
      transitions: [{ cluster: 'east', from: 'Degraded', to: 'Unhealthy' }],
    });
    expect((await store.getCluster('east'))?.state).toBe('Unhealthy');
    const east = kcp.syncTargets.find((t) => t.metadata.name === 'east');
    expect((east?.status as { conditions: Array<{ type: string; status: string }> }).conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'False' })]),
    );
    expect(queue.sent[0]).toMatchObject({
      type: 'placement',
      reason: 'cluster-change',
      ref: {
        workspace: 'root:default',
        group: 'workload.kcp.io',
        resource: 'synctargets',
        kind: 'SyncTarget',
        name: 'east',
      },
    });

    up.set('east', true);
    // east's conditions change; west's heartbeat comes due (5 min since its first write): two writes.
    expect(await run()).toMatchObject({
      statusWrites: 2,
      placementMessages: 1,
      transitions: [{ cluster: 'east', from: 'Unhealthy', to: 'Healthy' }],
    });
    expect((await run()).statusWrites).toBe(0);
  });

  it('reports a kcp outage as a failure and keeps going', async () => {
    const connector = {
      ...fakeConnector(new FakeKcp([]), new Map()),
      kcp: async (): Promise<never> => Promise.reject(new ClusterUnreachableError('kcp down')),
    };
    const report = await probeClusters({
      connector,
      store: new InMemoryHealthStore(),
      workspaces: ['root:a', 'root:b'],
    });
    expect(report.failures).toHaveLength(2);
  });
});

describe('reportClusterFailure', () => {
  it('feeds cluster-unreachable failures into health at once and ignores other categories', async () => {
    const store = new InMemoryHealthStore();
    const queue = recordingQueue();
    const report = makeClusterFailureReporter({
      store,
      placementQueue: queue,
      now: () => Date.parse('2026-01-01T00:00:00Z'),
    });
    expect(await report('east', new ConflictError('409'))).toBeUndefined();
    await report('east', new ClusterUnreachableError('ECONNREFUSED'), { workspace: 'root:default' });
    await report('east', new ClusterUnreachableError('ECONNREFUSED'), { workspace: 'root:default' });
    expect(queue.sent).toHaveLength(0);
    const change = await report('east', new ClusterUnreachableError('ECONNREFUSED'), { workspace: 'root:default' });
    expect(change?.next).toMatchObject({ state: 'Unhealthy', reason: 'SyncUnreachable', consecutiveFailures: 3 });
    expect(queue.sent).toHaveLength(1);
  });
});

describe('probeClusters on a pull-mode SyncTarget', () => {
  const pull = (name: string): ReturnType<typeof syncTarget> => {
    const target = syncTarget(name);
    return { ...target, spec: { workloadCluster: { name, endpoint: `https://${name}.example` } } };
  };

  it('never calls the cluster, judges it by the syncer heartbeats, and shows the mode', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const kcp = new FakeKcp([pull('lab')]);
    const store = new InMemoryHealthStore();
    const queue = recordingQueue();
    const connector = {
      ...fakeConnector(kcp, new Map()),
      cluster: async (): Promise<never> => Promise.reject(new Error('a pull cluster was called')),
    };
    const run = (): ReturnType<typeof probeClusters> =>
      probeClusters({
        connector,
        store,
        placementQueue: queue,
        workspaces: ['root:default'],
        now: () => now,
        syncerStaleAfterSeconds: 90,
      });
    const beat = (): Promise<unknown> =>
      recordClusterObservation(
        store,
        'lab',
        { at: new Date(now).toISOString(), ok: true, source: 'syncer' },
        { workspace: 'root:default' },
      );

    await beat();
    expect(await run()).toMatchObject({ probed: 1, statusWrites: 1, failures: [] });
    const status = (): Record<string, unknown> => kcp.syncTargets[0].status as Record<string, unknown>;
    expect(status()).toMatchObject({ syncMode: 'Pull', lastSyncerHeartbeatTime: '2026-01-01T00:00:00.000Z' });
    expect(status().conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]),
    );
    now += 60_000;
    await run();
    expect((await store.getCluster('lab'))?.consecutiveFailures).toBe(0);

    // The syncer stops: every probe past the stale limit counts a failure until lab is Unhealthy and placement hears.
    for (let i = 0; i < 4; i += 1) {
      now += 60_000;
      await run();
    }
    expect((await store.getCluster('lab'))?.state).toBe('Unhealthy');
    expect(queue.sent.map((m) => m.ref.name)).toEqual(['lab']);
    expect(status().conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'False' })]),
    );
  });
});

describe('probeClusters forgets deleted SyncTargets', () => {
  it('removes the health of a cluster no workspace lists any more, and only after every list succeeded', async () => {
    const kcp = new FakeKcp([syncTarget('east'), syncTarget('west')]);
    const store = new InMemoryHealthStore();
    const up = new Map([
      ['east', true],
      ['west', true],
    ]);
    const probe = (connector = fakeConnector(kcp, up)): ReturnType<typeof probeClusters> =>
      probeClusters({ connector, store, workspaces: ['root:default'] });
    await probe();
    expect((await store.listClusters()).map((h) => h.cluster)).toEqual(['east', 'west']);

    kcp.syncTargets.splice(1, 1); // west deleted in kcp
    const failingKcp = {
      ...fakeConnector(kcp, up),
      kcp: async (): Promise<never> => Promise.reject(new ClusterUnreachableError('kcp down')),
    };
    await probe(failingKcp);
    expect((await store.listClusters()).map((h) => h.cluster)).toEqual(['east', 'west']); // no list, no judgement

    expect((await probe()).failures).toEqual([]);
    expect((await store.listClusters()).map((h) => h.cluster)).toEqual(['east']);
  });
});
