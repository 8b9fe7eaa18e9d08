import { locationCounts, locationInstances, type LocationInstance } from '../../../lib/health/location-status';
import { probeClusters } from '../../../lib/health/probe-clusters';
import { InMemoryHealthStore } from '../../../lib/ports/health-store';
import type { KubeObject } from '../../../lib/ports/kube-client';
import * as build from '../../support/builders';
import { location } from '../placement/fixtures';
import { FakeKcp, fakeConnector } from './fake-kube';

const instance = (name: string, region: string, available = true): LocationInstance => ({
  name,
  labels: { region },
  available,
});

describe('locationCounts', () => {
  const instances = [instance('east', 'us'), instance('west', 'us', false), instance('edge', 'eu')];
  it.each([
    ['every SyncTarget (no selector)', undefined, { instances: 3, availableInstances: 2 }],
    ['a region', { matchLabels: { region: 'us' } }, { instances: 2, availableInstances: 1 }],
    ['nothing', { matchLabels: { region: 'ap' } }, { instances: 0, availableInstances: 0 }],
    [
      'an expression',
      { matchExpressions: [{ key: 'region', operator: 'NotIn' as const, values: ['us'] }] },
      { instances: 1, availableInstances: 1 },
    ],
  ])('%s', (_case, selector, expected) => {
    expect(locationCounts(location('l', {}, selector), instances)).toEqual(expected);
  });

  it('counts nothing for a Location of another resource', () => {
    const other = { spec: { resource: { group: 'example.com', resource: 'widgets' } } };
    expect(locationCounts(other, instances)).toEqual({ instances: 0, availableInstances: 0 });
  });
});

describe('locationInstances', () => {
  const ready = (name: string, status: string, spec: Record<string, unknown> = {}): KubeObject => ({
    ...build.syncTarget(name, { spec }),
    status: { conditions: [{ type: 'Ready', status }] },
  });

  it('is available when Ready and not cordoned; this run’s verdict wins over the listed status', () => {
    const targets = [ready('east', 'True'), ready('west', 'True', { unschedulable: true }), ready('edge', 'False')];
    expect(locationInstances(targets, new Map([['edge', true]]))?.map((i) => [i.name, i.available])).toEqual([
      ['east', true],
      ['west', false],
      ['edge', true],
    ]);
  });

  it('leaves out a SyncTarget being deleted, and gives no counts when one cannot be read', () => {
    const deleting = ready('old', 'True');
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(locationInstances([ready('east', 'True'), deleting], new Map())?.map((i) => i.name)).toEqual(['east']);
    expect(locationInstances([ready('east', 'True'), { metadata: {} }], new Map())).toBeUndefined();
  });
});

describe('health-probe fills Location status', () => {
  const regional = (name: string, region: string): KubeObject =>
    build.syncTarget(name, { labels: { 'topology.kubernetes.io/region': region } });
  const statusOf = (kcp: FakeKcp, name: string): unknown => kcp.locations.find((l) => l.metadata.name === name)?.status;

  it('writes instances and availableInstances, again only when they change', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const kcp = new FakeKcp(
      [regional('east', 'us-east-1'), regional('west', 'us-west-2'), regional('edge', 'eu-central-1')],
      [
        location(
          'us',
          {},
          {
            matchExpressions: [
              { key: 'topology.kubernetes.io/region', operator: 'In', values: ['us-east-1', 'us-west-2'] },
            ],
          },
        ),
        location('all', {}, undefined),
      ] as KubeObject[],
    );
    const up = new Map([
      ['east', true],
      ['west', true],
      ['edge', true],
    ]);
    const store = new InMemoryHealthStore();
    const run = async (): Promise<Awaited<ReturnType<typeof probeClusters>>> => {
      const report = await probeClusters({
        connector: fakeConnector(kcp, up),
        store,
        workspaces: ['root:default'],
        now: () => now,
      });
      now += 60_000;
      return report;
    };

    // Three SyncTarget writes and two Location writes.
    expect(await run()).toMatchObject({ statusWrites: 5, failures: [] });
    expect(statusOf(kcp, 'us')).toEqual({ instances: 2, availableInstances: 2 });
    expect(statusOf(kcp, 'all')).toEqual({ instances: 3, availableInstances: 3 });
    expect((await run()).statusWrites).toBe(0);

    // west down: Degraded (still Ready) for two probes, then Unhealthy: the Locations count it unavailable then.
    up.set('west', false);
    await run();
    await run();
    const writesBefore = kcp.statusWrites;
    await run();
    expect(statusOf(kcp, 'us')).toEqual({ instances: 2, availableInstances: 1 });
    expect(statusOf(kcp, 'all')).toEqual({ instances: 3, availableInstances: 2 });
    // west's SyncTarget (Ready False) and the two Locations.
    expect(kcp.statusWrites - writesBefore).toBe(3);
  });

  it('leaves the Locations as they are when a SyncTarget cannot be read', async () => {
    const kcp = new FakeKcp([regional('east', 'us-east-1'), { ...build.syncTarget('bad'), metadata: { name: '' } }], [
      location('all', {}, undefined),
    ] as KubeObject[]);
    const report = await probeClusters({
      connector: fakeConnector(kcp, new Map([['east', true]])),
      store: new InMemoryHealthStore(),
      workspaces: ['root:default'],
    });
    expect(report.failures).toHaveLength(1);
    expect(statusOf(kcp, 'all')).toBeUndefined();
  });
});
