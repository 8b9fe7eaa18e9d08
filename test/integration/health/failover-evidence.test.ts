import { parseAllDocuments } from 'yaml';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import { DynamoHealthStore } from '../../../lib/adapters/dynamodb/health-store';
import { renderCrdFiles } from '../../../lib/api/crds/crd-builder';
import { asTmcError } from '../../../lib/errors/tmc-error';
import { buildHealthReport } from '../../../lib/health/health-report';
import { probeClusters, type ProbeRunReport } from '../../../lib/health/probe-clusters';
import { makeClusterFailureReporter } from '../../../lib/health/report-cluster-failure';
import type { KubeObject } from '../../../lib/ports/kube-client';
import type { Metrics } from '../../../lib/ports/telemetry';
import { evacuationReason } from '../../../lib/recovery/rules';
import { startSimServer, type SimServer } from '../../../lib/sim';
import * as build from '../../support/builders';
import { SimConnector } from '../sync/sim-connector';
import { startLocalTable, type LocalTable } from './local-table';

const WS = 'root:failover-evidence';
const NAMES = ['east', 'west', 'edge'] as const;
const SYNC_TARGETS = { group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets' };
const T0 = Date.parse('2026-01-01T12:00:00Z');

/**
 * When tmc fails a cluster over, on the real path: health-probe's /readyz and sync-apply's failures against simulated
 * clusters (the simulator's `down` fault: connections refused), recorded in dynalite, read back by the inventory the
 * recovery sweep and placement read, judged by the sweep's own rule (evacuationReason). The clock is the test's, so
 * the grace (40 s, the default) is crossed by moving it, never by waiting. SyncTargets' evictAfter is 0, so a cluster
 * fails over as soon as it is Unhealthy: what these tests pin down is when that is.
 */
describe('failover needs sustained, specific evidence', () => {
  let table: LocalTable;
  let kcp: SimServer;
  const clusters: Record<string, SimServer> = {};
  let connector: SimConnector;
  let store: DynamoHealthStore;
  let inventory: DynamoClusterInventory;
  let now = T0;
  const gauges: Array<{ name: string; labels?: Record<string, string>; value?: number }> = [];
  const metrics: Metrics = {
    increment: () => undefined,
    observe: () => undefined,
    gauge: (name, labels, value) => void gauges.push({ name, labels, value }),
  };

  beforeAll(async () => {
    table = await startLocalTable();
    kcp = await startSimServer({ name: 'kcp', mode: 'kcp' });
    kcp.createLogicalCluster(WS);
    const crd = parseAllDocuments(renderCrdFiles()['workload.kcp.io_synctargets.yaml'])[0].toJS() as KubeObject;
    kcp.store(WS).create({ group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' }, crd);
    store = new DynamoHealthStore(table.doc, table.tableName);
    inventory = new DynamoClusterInventory(table.doc, table.tableName);
    for (const name of NAMES) {
      clusters[name] = await startSimServer({ name, mode: 'cluster' });
      kcp.store(WS).create(SYNC_TARGETS, build.syncTarget(name, { endpoint: clusters[name].serverUrl() }));
      await inventory.putMirror({
        workspace: WS,
        name,
        endpoint: clusters[name].serverUrl(),
        credentialsRef: `secretRef:tmc/${name}`,
        labels: {},
        taints: [],
        unschedulable: false,
        evictAfterSeconds: 0,
        hash: name,
        updatedAt: new Date(T0).toISOString(),
      });
    }
    connector = new SimConnector(kcp, clusters);
  });
  afterAll(async () => {
    connector?.close();
    await Promise.all([kcp?.stop(), ...Object.values(clusters).map((c) => c.stop())]);
    await table?.close();
  });
  beforeEach(async () => {
    for (const name of NAMES) {
      clusters[name].faults.clear();
      const health = await store.getCluster(name);
      if (health) await store.deleteCluster(name, health.version);
    }
    gauges.length = 0;
    now = T0;
  });

  /** One health-probe run at the test's clock, then the clock moves on by `advanceMs`. */
  const probe = async (advanceMs = 60_000): Promise<ProbeRunReport> => {
    const report = await probeClusters({ connector, store, workspaces: [WS], now: () => now, metrics });
    expect(report.failures).toEqual([]);
    now += advanceMs;
    return report;
  };
  /** One of sync-apply's requests to the cluster, failing as it fails there, fed to health as sync-apply feeds it. */
  const syncFailure = async (name: string): Promise<void> => {
    const client = await connector.cluster(WS, name);
    const err = await client
      .get({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'x', name: 'web' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(asTmcError(err).category).toBe('cluster-unreachable');
    await makeClusterFailureReporter({ store, now: () => now })(name, err, { workspace: WS });
  };
  /** The clusters the recovery sweep would fail over now (placement drops them on the same reading). */
  const failingOver = async (): Promise<string[]> =>
    (await inventory.list(WS)).filter((c) => evacuationReason(c, now) !== undefined).map((c) => c.name);
  const stateOf = async (name: string): Promise<string | undefined> => (await store.getCluster(name))?.state;

  it('fails over one cluster down past the grace, and nothing else', async () => {
    await probe();
    clusters.east.faults.set({ down: true });
    await probe(); // the first failure: Degraded at once
    expect(await stateOf('east')).toBe('Degraded');
    await probe();
    expect(await stateOf('east')).toBe('Degraded'); // two failures: fewer than three
    expect(await failingOver()).toEqual([]);
    await probe();
    expect(await stateOf('east')).toBe('Unhealthy');
    expect(await failingOver()).toEqual(['east']);
  });

  it('does not fail over a cluster unreachable for less than the grace', async () => {
    await probe(1_000);
    clusters.east.faults.set({ down: true });
    // A burst of sync-apply failures within a second (what a starved hub saw in the benchmark), then a failed probe.
    for (let i = 0; i < 5; i += 1) {
      await syncFailure('east');
      now += 200;
    }
    await probe(20_000);
    await syncFailure('east');
    now += 15_000; // 36 s into the streak
    await syncFailure('east');
    expect(await stateOf('east')).toBe('Degraded');
    expect(await failingOver()).toEqual([]);
    // Back within the grace: the next probe succeeds, and the streak is over.
    clusters.east.faults.clear();
    await probe();
    expect(await stateOf('east')).toBe('Healthy');
    expect(await failingOver()).toEqual([]);
  });

  it('holds failover when every cluster fails at once (a hub-side fault), says so, and resumes when it clears', async () => {
    await probe();
    for (const name of NAMES) clusters[name].faults.set({ down: true });
    await probe();
    await probe();
    const third = await probe();
    for (const name of NAMES) expect(await stateOf(name)).toBe('Unhealthy');
    // Health stays true to what was seen; the moving of work is what is held.
    expect(await failingOver()).toEqual([]);
    expect(third.failoverHolds).toEqual([
      { workspace: WS, clusters: ['east', 'edge', 'west'], message: expect.stringContaining('Failover held') },
    ]);
    expect(gauges).toContainEqual({ name: 'tmc_failover_held', labels: { workspace: WS }, value: 1 });
    const health = await buildHealthReport({ store, now: () => now });
    expect(health).toMatchObject({ reason: 'FailoverHeld', failoverHolds: [{ workspace: WS }] });
    expect(health.message).toContain('east, edge, west');

    // west and edge answer again: one of three Unhealthy is a cluster's own outage, and east fails over.
    clusters.west.faults.clear();
    clusters.edge.faults.clear();
    gauges.length = 0;
    const cleared = await probe();
    expect(cleared.failoverHolds).toEqual([]);
    expect(gauges).toContainEqual({ name: 'tmc_failover_held', labels: { workspace: WS }, value: 0 });
    expect(await failingOver()).toEqual(['east']);
  });
});
