import type { ScheduledEvent, SQSEvent } from 'aws-lambda';
import { clusterStatusAnnotation, downstreamNamespace } from '../../../lib/api/labels';
import type { StatusMessage } from '../../../lib/api/messages';
import type { KubeClient, KubeConnector, KubeObject } from '../../../lib/ports/kube-client';
import { DynamoRecoveryStore } from '../../../lib/adapters/dynamodb/recovery-store';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import { makeStatusUpHandler } from '../../../lib/runtime/status-up';
import { ClusterThrottledError } from '../../../lib/errors/tmc-error';
import { syncOne } from '../../../lib/sync/apply';
import { makeStatusReporter } from '../../../lib/sync/status/report-status';
import { BackstopMemo, reportClusterStatus, runStatusBackstop } from '../../../lib/sync/status/status-up';
import { FakeConnector } from './fake-kube';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from './world';
import { loadEvent } from '../../support/events';

const WS = 'root:default';
const CLUSTERS = ['east', 'west', 'north'];
const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'nginx', namespace: 'default', uid: 'uid-nginx', generation: 1 },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'nginx' } },
    template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
  },
};
const ready = (n: number, observedGeneration = 1): Record<string, unknown> => ({
  observedGeneration,
  replicas: 1,
  readyReplicas: n,
  availableReplicas: n,
  updatedReplicas: 1,
  conditions: [
    {
      type: 'Available',
      status: n > 0 ? 'True' : 'False',
      reason: n > 0 ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
    },
  ],
});

/**
 * A view of `kube` whose first kcp write waits until released: `reached` resolves when that write is attempted, after
 * the refresh has read kcp and DynamoDB. Later writes go straight through.
 */
function heldKcpWrites(kube: FakeConnector): { connector: KubeConnector; reached: Promise<void>; release: () => void } {
  let reach = (): void => undefined;
  let release = (): void => undefined;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding = true;
  const hold = async (): Promise<void> => {
    if (!holding) return;
    holding = false;
    reach();
    await released;
  };
  const connector: KubeConnector = {
    kcp: async (workspace) => {
      const real = kube.kcpOf(workspace);
      const view: KubeClient = Object.create(real) as KubeClient;
      view.mergePatch = async (name, patch) => (await hold(), real.mergePatch(name, patch));
      view.patchStatus = async (name, status, options) => (await hold(), real.patchStatus(name, status, options));
      return view;
    },
    cluster: (workspace, name) => kube.cluster(workspace, name),
    forget: () => undefined,
  };
  return { connector, reached, release };
}

describe('status-up use case (dynalite + in-memory clusters)', () => {
  let world: SyncWorld;
  let kube: FakeConnector;
  const ref = refOf(WS, deployment, 'apps', 'deployments');
  const message = (cluster: string, resourceVersion: string, status: Record<string, unknown>): StatusMessage => ({
    type: 'status',
    ref,
    cluster,
    resourceVersion,
    status,
    trace: { traceId: 't', enqueuedAt: new Date().toISOString() },
  });
  const kcpObject = (): KubeObject => kube.kcpOf(WS).find('deployments', 'default', 'nginx') as KubeObject;
  const kcpStatus = (): Record<string, any> => kcpObject().status as Record<string, any>;
  /** Sets the downstream Deployment's status on one cluster, as its controller would; returns the object before. */
  const setDownstreamStatus = (cluster: string, status: Record<string, unknown>): KubeObject => {
    const before = kube
      .clusterOf(cluster)
      .find('deployments', downstreamNamespace(WS, 'default'), 'nginx') as KubeObject;
    kube.clusterOf(cluster).put('deployments', { ...before, status });
    return before;
  };

  beforeEach(async () => {
    world = await startSyncWorld();
    kube = new FakeConnector();
    kube.kcpOf(WS).put('deployments', deployment);
    await world.putDecision(
      ref,
      1,
      CLUSTERS.map((name) => ({ name, replicas: 1 })),
    );
    const deps = world.applyDeps(kube);
    for (const c of CLUSTERS) await syncOne(deps, syncMessage(ref, c, 1), 1);
  });
  afterEach(async () => world.close());

  it('placed on three, ready on two: says exactly that, then Available once all three are', async () => {
    const deps = world.statusDeps(kube);
    expect(await reportClusterStatus(deps, message('east', '10', ready(1)), 1)).toEqual({ result: 'written' });
    expect(await reportClusterStatus(deps, message('west', '10', ready(1)), 1)).toEqual({ result: 'written' });
    expect(kcpStatus().readyReplicas).toBe(2);
    expect(kcpStatus().conditions.find((c: { type: string }) => c.type === 'Available')).toMatchObject({
      status: 'False',
      message: 'Available on 2 of 3 clusters; not on north (no status yet)',
    });
    expect(kcpStatus().observedGeneration).toBeUndefined(); // north has not observed generation 1
    const detail = JSON.parse(kcpObject().metadata.annotations?.[clusterStatusAnnotation(WS, 'east')] ?? '{}');
    expect(detail).toMatchObject({ cluster: 'east', state: 'applied', status: { readyReplicas: 1 } });
    expect(detail.observedAt).toBeDefined();
    expect(detail.age).toMatch(/^\d+s$/);

    expect(await reportClusterStatus(deps, message('north', '12', ready(1)), 1)).toEqual({ result: 'written' });
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3, replicas: 3, observedGeneration: 1 });
    expect(kcpStatus().conditions.find((c: { type: string }) => c.type === 'Available').status).toBe('True');
  });

  it('Duplicated 3 replicas on three clusters: READY reads 3/3 (each copy), not 9/3, with every copy named', async () => {
    await world.putDecision(
      ref,
      2,
      CLUSTERS.map((name) => ({ name, replicas: 3 })),
      undefined,
      { replicaMode: 'Duplicated' },
    );
    const three = { ...ready(3), replicas: 3, updatedReplicas: 3 };
    const deps = world.statusDeps(kube);
    for (const c of CLUSTERS) await reportClusterStatus(deps, message(c, '20', three), 1);
    expect(kcpStatus()).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3 });
    expect(kcpStatus().conditions.find((c: { type: string }) => c.type === 'ClusterReplicas')).toMatchObject({
      status: 'True',
      reason: 'Duplicated',
      message:
        "Duplicated: each of 3 clusters runs all 3 replicas; counts are the least ready copy's. Ready per cluster: east 3/3, west 3/3, north 3/3",
    });
    await reportClusterStatus(deps, message('west', '21', { ...three, readyReplicas: 2, availableReplicas: 2 }), 1);
    expect(kcpStatus()).toMatchObject({ replicas: 3, readyReplicas: 2 });
  });

  it('a duplicate or late message writes nothing and does not regress', async () => {
    const deps = world.statusDeps(kube);
    await reportClusterStatus(deps, message('east', '20', ready(1)), 1);
    const kcpWrites = kube.kcpOf(WS).writes();
    expect(await reportClusterStatus(deps, message('east', '20', ready(1)), 1)).toEqual({ result: 'stale' });
    expect(await reportClusterStatus(deps, message('east', '9', ready(0)), 1)).toEqual({ result: 'stale' });
    expect(kube.kcpOf(WS).writes()).toBe(kcpWrites);
    expect(kcpStatus().readyReplicas).toBe(1);
    // A newer version with the same content: stored, but nothing changed in kcp, so nothing is written there.
    expect(await reportClusterStatus(deps, message('east', '21', ready(1)), 1)).toEqual({ result: 'unchanged' });
    expect(kube.kcpOf(WS).writes()).toBe(kcpWrites);
  });

  it('a retry after the kcp refresh failed still brings the stored status to kcp', async () => {
    const deps = world.statusDeps(kube);
    kube
      .kcpOf(WS)
      .failNext('patchStatus', new ClusterThrottledError('kcp throttled', { statusCode: 429, retryAfterSeconds: 1 }));
    expect(await reportClusterStatus(deps, message('east', '70', ready(1)), 1)).toMatchObject({ result: 'deferred' });
    expect(kcpStatus().readyReplicas).toBe(0);
    expect(await reportClusterStatus(deps, message('east', '70', ready(1)), 2)).toEqual({ result: 'written' });
    expect(kcpStatus().readyReplicas).toBe(1);
  });

  it('a status write never touches spec, so the next resync is still a no-op', async () => {
    const deps = world.statusDeps(kube);
    const specBefore = JSON.stringify(kcpObject().spec);
    await reportClusterStatus(deps, message('east', '30', ready(1)), 1);
    expect(JSON.stringify(kcpObject().spec)).toBe(specBefore);
    const writes = CLUSTERS.map((c) => kube.clusterOf(c).writes());
    for (const c of CLUSTERS)
      expect(await syncOne(world.applyDeps(kube), syncMessage(ref, c, 1, { object: kcpObject() }), 1)).toEqual({
        result: 'unchanged',
      });
    expect(CLUSTERS.map((c) => kube.clusterOf(c).writes())).toEqual(writes);
  });

  it("the events/status-up sample's status reaches kcp as east's report", async () => {
    const handler = makeStatusUpHandler(world.statusDeps(kube));
    const writes = kube.kcpOf(WS).writes();
    expect(await handler(loadEvent<SQSEvent>('status-up', 'status-deployment.json'))).toEqual({
      batchItemFailures: [],
    });
    expect(kube.kcpOf(WS).writes()).toBeGreaterThan(writes);
    const east = JSON.parse(kcpObject().metadata.annotations?.[clusterStatusAnnotation(WS, 'east')] ?? '{}') as Record<
      string,
      unknown
    >;
    expect(east).toMatchObject({ cluster: 'east', status: { readyReplicas: 2, availableReplicas: 2 } });
  });

  it('the backstop leaves a pair applied within its grace to the status message still in the queue', async () => {
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      setDownstreamStatus(c, ready(1));
    }
    const grace = { graceSeconds: 120 };
    expect(await runStatusBackstop(world.statusDeps(kube), grace)).toMatchObject({ polled: 0, written: 0 });
    expect((kcpObject().status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0).toBe(0);
    const later = Date.now() + 121_000;
    const summary = await runStatusBackstop({ ...world.statusDeps(kube), now: () => later }, grace);
    expect(summary).toMatchObject({ failed: 0 });
    expect(summary.written).toBeGreaterThan(0);
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3, observedGeneration: 1 });
    expect(
      world.metrics.filter((m) => m.name === 'tmc_status_backstop_repairs_total' && m.labels?.found === 'status'),
    ).toHaveLength(summary.written);
  });

  it('the backstop leaves a recent pair to a report in the busy status queue, and repairs it once the queue is empty', async () => {
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      setDownstreamStatus(c, ready(1));
    }
    let busy = true;
    let depthReads = 0;
    const later = Date.now() + 121_000;
    const deps = {
      ...world.statusDeps(kube),
      now: () => later,
      statusQueueBusy: async () => (depthReads++, busy),
    };
    const options = { graceSeconds: 120, queuedMaxSeconds: 600 };
    const writes = kube.kcpOf(WS).writes();
    expect(await runStatusBackstop(deps, options)).toMatchObject({ queued: 3, written: 0, failed: 0 });
    expect(kube.kcpOf(WS).writes()).toBe(writes);
    expect(depthReads).toBe(1); // once per run, however many pairs wait
    busy = false;
    const summary = await runStatusBackstop(deps, options);
    expect(summary).toMatchObject({ queued: 0, failed: 0 });
    expect(summary.written).toBeGreaterThan(0);
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3 });
  });

  it('the backstop repairs a pair past queuedMaxSeconds although the status queue stays busy (a report was lost)', async () => {
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      setDownstreamStatus(c, ready(1));
    }
    const deps = { ...world.statusDeps(kube), now: () => Date.now() + 601_000, statusQueueBusy: async () => true };
    const summary = await runStatusBackstop(deps, { graceSeconds: 120, queuedMaxSeconds: 600 });
    expect(summary).toMatchObject({ queued: 0, failed: 0 });
    expect(summary.written).toBeGreaterThan(0);
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3 });
  });

  it("after a backstop repair, the copy's next admission report is stored and reaches kcp (no second repair)", async () => {
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      setDownstreamStatus(c, ready(1));
    }
    const deps = { ...world.statusDeps(kube), now: () => Date.now() + 601_000, statusQueueBusy: async () => false };
    const options = { graceSeconds: 120, queuedMaxSeconds: 600 };
    const repairs = (): number =>
      world.metrics.filter((m) => m.name === 'tmc_status_backstop_repairs_total' && m.labels?.found === 'status')
        .length;
    expect((await runStatusBackstop(deps, options)).written).toBeGreaterThan(0);
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3 });
    const repaired = repairs();
    // east's next status write: its admission report carries the version the repair read (the write's base).
    const before = setDownstreamStatus('east', ready(0));
    const report = message('east', String(before.metadata.resourceVersion), ready(0));
    expect(await reportClusterStatus(world.statusDeps(kube), report, 1)).toEqual({ result: 'written' });
    expect(kcpStatus()).toMatchObject({ readyReplicas: 2 });
    expect(await runStatusBackstop(deps, options)).toMatchObject({ written: 0, failed: 0 });
    expect(repairs()).toBe(repaired);
  });

  it('with a memo, a missing status is repaired on its second sighting; a report arriving in between is left alone', async () => {
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      setDownstreamStatus(c, ready(1));
    }
    const memo = new BackstopMemo();
    let now = Date.now() + 121_000;
    const deps = { ...world.statusDeps(kube), now: () => now, backstopMemo: memo, statusQueueBusy: async () => false };
    const options = { graceSeconds: 120, queuedMaxSeconds: 600 };
    const writes = kube.kcpOf(WS).writes();
    // First sighting: each report may still be on its way (its enqueue outlived ingress's deadline), not yet queued.
    expect(await runStatusBackstop(deps, options)).toMatchObject({ sighted: 3, written: 0, failed: 0 });
    expect(kube.kcpOf(WS).writes()).toBe(writes);
    // east's and west's reports arrive by the primary path; north's was lost.
    const downstreamVersion = (c: string): string =>
      String(
        (kube.clusterOf(c).find('deployments', downstreamNamespace(WS, 'default'), 'nginx') as KubeObject).metadata
          .resourceVersion,
      );
    for (const c of ['east', 'west'])
      await reportClusterStatus(
        world.statusDeps(kube),
        message(c, String(Number(downstreamVersion(c)) - 1), ready(1)),
        1,
      );
    now += 60_000;
    expect(await runStatusBackstop(deps, options)).toMatchObject({ sighted: 0, written: 1, failed: 0 });
    expect(
      world.metrics.filter((m) => m.name === 'tmc_status_backstop_repairs_total' && m.labels?.found === 'status'),
    ).toHaveLength(1);
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3 });
  });

  it('the backstop reads the stored status again before repairing: a report stored meanwhile is not written ahead of', async () => {
    await world.putCluster(WS, 'east');
    setDownstreamStatus('east', ready(1));
    const version = (
      kube.clusterOf('east').find('deployments', downstreamNamespace(WS, 'default'), 'nginx') as KubeObject
    ).metadata.resourceVersion;
    // status-up takes east's report off the queue while the backstop compares: when it reads the queue, it is empty.
    let dynamoWrites = 0;
    const deps = {
      ...world.statusDeps(kube),
      now: () => Date.now() + 121_000,
      statusQueueBusy: async () => {
        await reportClusterStatus(world.statusDeps(kube), message('east', String(Number(version) - 1), ready(1)), 1);
        dynamoWrites = world.dynamoWrites();
        return false;
      },
    };
    const summary = await runStatusBackstop(deps, { graceSeconds: 120, queuedMaxSeconds: 600 });
    expect(summary).toMatchObject({ written: 0, failed: 0 });
    expect(world.dynamoWrites()).toBe(dynamoWrites); // nothing stored again over the report
    expect(world.metrics.filter((m) => m.name === 'tmc_status_backstop_repairs_total')).toHaveLength(0);
    expect(kcpStatus()).toMatchObject({ readyReplicas: 1 });
  });

  it('the scheduled backstop reads downstream status for recently applied objects', async () => {
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      setDownstreamStatus(c, ready(1));
    }
    const handler = makeStatusUpHandler(world.statusDeps(kube));
    const summary = await handler(loadEvent<ScheduledEvent>('status-up', 'status-backstop.json'));
    expect(summary).toMatchObject({ clusters: 3, failed: 0 });
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3, observedGeneration: 1 });
    // A second run finds nothing new to write.
    const writes = kube.kcpOf(WS).writes();
    expect(await runStatusBackstop(world.statusDeps(kube))).toMatchObject({ written: 0 });
    expect(kube.kcpOf(WS).writes()).toBe(writes);
  });

  it('the backstop pages through a cluster with more sync items than one run reads, resuming where it stopped', async () => {
    // Four more Deployments whose keys sort before nginx's: with two items per cluster per run, reading only the first
    // page (as the backstop did) never reached nginx, so a status lost there never came back.
    const others = ['a-0', 'a-1', 'a-2', 'a-3'].map((name) => ({
      ...deployment,
      metadata: { ...deployment.metadata, name, uid: `uid-${name}` },
    }));
    const applyDeps = world.applyDeps(kube);
    for (const other of others) {
      kube.kcpOf(WS).put('deployments', other);
      const otherRef = refOf(WS, other, 'apps', 'deployments');
      await world.putDecision(
        otherRef,
        1,
        CLUSTERS.map((name) => ({ name, replicas: 1 })),
      );
      for (const c of CLUSTERS) await syncOne(applyDeps, syncMessage(otherRef, c, 1), 1);
    }
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      setDownstreamStatus(c, ready(1));
    }
    const firstPageOnly = world.statusDeps(kube);
    for (let run = 0; run < 3; run++) await runStatusBackstop(firstPageOnly, { perClusterLimit: 2 });
    expect(kcpStatus()).toMatchObject({ readyReplicas: 0 }); // the apply's refresh: no cluster has reported

    const paged = { ...world.statusDeps(kube), cursors: new DynamoRecoveryStore(world.doc, world.tableName) };
    // 5 items per cluster, 2 per run: the first run reads a-0, a-1; the second a-2, a-3; the third nginx.
    await runStatusBackstop(paged, { perClusterLimit: 2 });
    await runStatusBackstop(paged, { perClusterLimit: 2 });
    expect(kcpStatus()).toMatchObject({ readyReplicas: 0 });
    await runStatusBackstop(paged, { perClusterLimit: 2 });
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3, observedGeneration: 1 });
  });

  it('the backstop never calls a pull-mode cluster and leaves what its syncer reported alone', async () => {
    const deps = world.statusDeps(kube);
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      setDownstreamStatus(c, ready(1));
    }
    // north is in pull mode: its syncer reported its status; the connector refuses to call it, as the real one does.
    await reportClusterStatus(deps, message('north', '70', ready(1)), 1);
    const called: string[] = [];
    const connector: KubeConnector = {
      kcp: (workspace) => kube.kcp(workspace),
      cluster: async (workspace, name) => {
        called.push(name);
        if (name === 'north') throw new Error(`SyncTarget north in ${workspace} is in pull mode`);
        return kube.cluster(workspace, name);
      },
      syncMode: async (_workspace, name) => (name === 'north' ? 'Pull' : 'Push'),
      forget: () => undefined,
    };
    const summary = await runStatusBackstop({ ...deps, kube: connector });
    expect(summary).toMatchObject({ clusters: 3, failed: 0 });
    expect(called.filter((c) => c === 'north')).toEqual([]);
    expect([...new Set(called)].sort()).toEqual(['east', 'west']);
    // The push clusters' statuses were read and north's syncer-reported one still counts.
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3, observedGeneration: 1 });
  });

  it('the backstop on unchanged state writes nothing to DynamoDB or kcp, and does not read kcp', async () => {
    const deps = world.statusDeps(kube);
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      const before = setDownstreamStatus(c, ready(1));
      // As the status webhook reports it: the resourceVersion before the status update, so the stored one lags.
      await reportClusterStatus(deps, message(c, before.metadata.resourceVersion ?? '0', ready(1)), 1);
    }
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3 });
    for (let run = 0; run < 2; run++) {
      const dynamoWrites = world.dynamoWrites();
      const kcpCalls = kube.kcpOf(WS).calls.length;
      expect(await runStatusBackstop(deps)).toMatchObject({ clusters: 3, written: 0, failed: 0 });
      expect(world.dynamoWrites()).toBe(dynamoWrites);
      expect(kube.kcpOf(WS).calls.length).toBe(kcpCalls);
    }
    // Real progress is still picked up: one cluster's status moves, the backstop stores it and kcp shows it.
    setDownstreamStatus('east', ready(0));
    const dynamoWrites = world.dynamoWrites();
    expect(await runStatusBackstop(deps)).toMatchObject({ written: 1, failed: 0 });
    expect(world.dynamoWrites()).toBeGreaterThan(dynamoWrites);
    expect(kcpStatus()).toMatchObject({ readyReplicas: 2 });
  });

  it('a warm backstop reads no stored status for copies unchanged since it found theirs stored', async () => {
    const base = world.statusDeps(kube);
    let statusReads = 0;
    const statusStore = Object.create(base.statusStore) as typeof base.statusStore;
    statusStore.getMany = async (refs, cluster) => {
      statusReads += refs.length;
      return base.statusStore.getMany(refs, cluster);
    };
    statusStore.get = async (ref, cluster) => {
      statusReads++;
      return base.statusStore.get(ref, cluster);
    };
    const deps = { ...base, statusStore, backstopMemo: new BackstopMemo() };
    for (const c of CLUSTERS) {
      await world.putCluster(WS, c);
      const before = setDownstreamStatus(c, ready(1));
      await reportClusterStatus(deps, message(c, before.metadata.resourceVersion ?? '0', ready(1)), 1);
    }
    statusReads = 0;
    expect(await runStatusBackstop(deps)).toMatchObject({ clusters: 3, written: 0, failed: 0 });
    expect(statusReads).toBe(3);
    statusReads = 0;
    expect(await runStatusBackstop(deps)).toMatchObject({ clusters: 3, written: 0, failed: 0 });
    expect(statusReads).toBe(0);
    // A copy whose status moves and whose report never comes is read again, and stored when a second run finds it
    // still missing (read once more, consistently, right before the repair).
    setDownstreamStatus('east', ready(0));
    expect(await runStatusBackstop(deps)).toMatchObject({ sighted: 1, written: 0, failed: 0 });
    expect(statusReads).toBe(1);
    expect(await runStatusBackstop(deps)).toMatchObject({ sighted: 0, written: 1, failed: 0 });
    expect(statusReads).toBe(3);
    expect(kcpStatus()).toMatchObject({ readyReplicas: 2 });
  });

  it('the after-apply refresh with nothing new writes nothing to kcp', async () => {
    const deps = world.statusDeps(kube);
    for (const c of CLUSTERS) await reportClusterStatus(deps, message(c, '50', ready(1)), 1);
    const kcpWrites = kube.kcpOf(WS).writes();
    // What sync-apply runs after a first apply or a recovery: here a re-run over unchanged state.
    expect(await deps.reporter.refresh(ref)).toEqual({ annotations: false, status: false });
    expect(await world.applyDeps(kube).status?.refresh(ref)).toEqual({ annotations: false, status: false });
    expect(kube.kcpOf(WS).writes()).toBe(kcpWrites);
  });

  it("one batch with every cluster's status: the object is refreshed once, after all three are stored", async () => {
    const handler = makeStatusUpHandler(world.statusDeps(kube));
    await handler(sqsEvent([message('east', '59', ready(0))]));
    const kcp = kube.kcpOf(WS);
    const [gets, patches, statusPatches] = [kcp.count('get'), kcp.count('mergePatch'), kcp.count('patchStatus')];
    // A late duplicate of east's (stale: it asks for no refresh) must not hold the others up.
    const response = await handler(
      sqsEvent([...CLUSTERS.map((c) => message(c, '60', ready(1))), message('east', '59', ready(0))]),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect([
      kcp.count('get') - gets,
      kcp.count('mergePatch') - patches,
      kcp.count('patchStatus') - statusPatches,
    ]).toEqual([1, 1, 1]);
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3, observedGeneration: 1 });
    for (const c of CLUSTERS)
      expect(JSON.parse(kcpObject().metadata.annotations?.[clusterStatusAnnotation(WS, c)] ?? '{}')).toMatchObject({
        status: { readyReplicas: 1 },
      });
  });

  it('a refresh computed from an older read never overwrites a newer one written meanwhile (two containers)', async () => {
    // Two status-up containers (or status-up and sync-apply): each has its own reporter, so nothing in-process orders
    // them. The first reads kcp and DynamoDB when west's status is stored but north's is not, and is held before it
    // writes; the second stores north's status and writes the full aggregate; then the first is let go.
    const deps = world.statusDeps(kube);
    await reportClusterStatus(deps, message('east', '80', ready(1)), 1);
    const held = heldKcpWrites(kube);
    const slow = {
      ...deps,
      kube: held.connector,
      reporter: makeStatusReporter({ kube: held.connector, snapshot: world.snapshot }),
    };
    const first = reportClusterStatus(slow, message('west', '80', ready(1)), 1);
    await held.reached;
    expect(await reportClusterStatus(deps, message('north', '80', ready(1)), 1)).toEqual({ result: 'written' });
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3, observedGeneration: 1 });
    held.release();
    expect(await first).toMatchObject({ result: expect.stringMatching(/^(written|unchanged)$/) });
    // Without the resourceVersion precondition the held write lands last and kcp says 2 of 3 ready for good.
    expect(kcpStatus()).toMatchObject({ readyReplicas: 3, observedGeneration: 1 });
    for (const c of CLUSTERS)
      expect(JSON.parse(kcpObject().metadata.annotations?.[clusterStatusAnnotation(WS, c)] ?? '{}')).toMatchObject({
        status: { readyReplicas: 1 },
      });
  });

  it("stores each cluster status with its report's trace id, which `tmc trace` shows as its status step", async () => {
    const handler = makeStatusUpHandler(world.statusDeps(kube));
    const traced = (cluster: string): StatusMessage => ({
      ...message(cluster, '60', ready(1)),
      trace: { traceId: `status-${cluster}`, enqueuedAt: new Date().toISOString() },
    });
    expect(await handler(sqsEvent(CLUSTERS.map(traced)))).toEqual({ batchItemFailures: [] });
    const stored = await new DynamoStatusStore({ doc: world.doc, tableName: world.tableName }).listForObject(ref);
    expect(stored.map((r) => [r.cluster, r.traceId]).sort()).toEqual(CLUSTERS.map((c) => [c, `status-${c}`]).sort());
  });

  it('status messages through the SQS handler; a malformed one fails alone', async () => {
    const handler = makeStatusUpHandler(world.statusDeps(kube));
    const response = await handler(sqsEvent([message('east', '40', ready(1)), { type: 'status' }]));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(kcpStatus().readyReplicas).toBe(1);
  });
});
