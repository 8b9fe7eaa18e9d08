import { clusterStatusAnnotation, stateLabel } from '../../../lib/api/labels';
import type { StatusMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
import type { WorkQueue } from '../../../lib/ports/work-queue';
import { makeStatusUpHandler, RERUN_DELAY_SECONDS } from '../../../lib/runtime/status-up';
import { syncOne } from '../../../lib/sync/apply';
import { RefreshAfterBatch } from '../../../lib/sync/status/refresh-after-batch';
import { makeStatusReporter } from '../../../lib/sync/status/report-status';
import { memoryLog } from '../../../lib/observability/log';
import { seededRandom } from '../../../lib/sim/seeded-random';
import { FakeConnector } from './fake-kube';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from './world';

const WS = 'root:default';
const CLUSTERS = ['east', 'west', 'north'];

const deploymentNamed = (name: string, generation = 1): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, generation },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name }, annotations: { revision: String(generation) } },
      spec: { containers: [{ name: 'app', image: 'nginx' }] },
    },
  },
});
/** What the deployment controller reports at once for a new generation, and once its pod is ready. */
const progressing = (observedGeneration: number): Record<string, unknown> => ({
  observedGeneration,
  replicas: 1,
  updatedReplicas: 1,
  unavailableReplicas: 1,
  conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }],
});
const ready = (observedGeneration: number): Record<string, unknown> => ({
  observedGeneration,
  replicas: 1,
  updatedReplicas: 1,
  readyReplicas: 1,
  availableReplicas: 1,
  conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
});

const WRITES = new Set(['apply', 'mergePatch', 'patchStatus', 'delete']);

describe('status coalesced across clusters: kcp writes per change, and every report reaches kcp', () => {
  let world: SyncWorld;
  let kube: FakeConnector;
  /** The status queue as status-up's re-runs reach it. */
  let queued: Array<{ message: StatusMessage; delaySeconds?: number }>;
  const rerunQueue: WorkQueue<StatusMessage> = {
    name: 'status',
    send: async (messages, options) => {
      for (const message of messages) queued.push({ message, delaySeconds: options?.delaySeconds });
    },
  };
  /** One status-up container: its own reporter (and so its own per-object ordering). */
  const container = (): ReturnType<typeof makeStatusUpHandler> =>
    makeStatusUpHandler({ ...world.statusDeps(kube), rerunQueue });
  const keyOf = (ref: ObjectRef): string => `deployments|default|${ref.name}`;
  const kcpWrites = (ref: ObjectRef): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const call of kube.kcpOf(WS).calls)
      if (call.key === keyOf(ref) && WRITES.has(call.verb)) out[call.verb] = (out[call.verb] ?? 0) + 1;
    return out;
  };
  const kcpObject = (ref: ObjectRef): KubeObject =>
    kube.kcpOf(WS).find('deployments', 'default', ref.name) as KubeObject;
  let rv = 100;
  const report = (ref: ObjectRef, cluster: string, status: Record<string, unknown>): StatusMessage => ({
    type: 'status',
    ref,
    cluster,
    resourceVersion: String(rv++),
    status,
    trace: { traceId: `t-${cluster}`, enqueuedAt: new Date().toISOString() },
  });
  /** Runs the queued re-runs (their delay is not waited for: the order of events is what matters here). */
  const drain = async (handler = container()): Promise<number> => {
    let ran = 0;
    while (queued.length) {
      const batch = queued.splice(0, 10);
      ran += batch.length;
      expect(await handler(sqsEvent(batch.map((q) => q.message)))).toEqual({ batchItemFailures: [] });
    }
    return ran;
  };

  /** kcp has the object, placement decided (every cluster, Duplicated) and sync-apply applied it as the function does. */
  const placedAndApplied = async (name: string, generation = 1): Promise<ObjectRef> => {
    const object = deploymentNamed(name, generation);
    kube.kcpOf(WS).put('deployments', object);
    const ref = refOf(WS, object, 'apps', 'deployments');
    await world.putDecision(
      ref,
      1,
      CLUSTERS.map((c) => ({ name: c, replicas: 1 })),
      undefined,
      { replicaMode: 'Duplicated' },
    );
    await applyEverywhere(ref, object);
    return ref;
  };
  /** sync-apply's batch: its refresh is left to the clusters' reports, which follow a new downstream generation. */
  const applyEverywhere = async (ref: ObjectRef, object: KubeObject): Promise<void> => {
    const refreshes = new RefreshAfterBatch(
      makeStatusReporter({ kube, snapshot: world.snapshot }),
      memoryLog(),
      world.snapshot,
    );
    const deps = { ...world.applyDeps(kube), status: refreshes };
    for (const c of CLUSTERS)
      expect(await syncOne(deps, syncMessage(ref, c, 1, { object }), 1)).toMatchObject({ result: 'applied' });
    await refreshes.flush();
  };
  const expectEveryCopyShown = (ref: ObjectRef, generation: number, readyReplicas: number): void => {
    const object = kcpObject(ref);
    expect(object.status).toMatchObject({ observedGeneration: generation, readyReplicas });
    for (const c of CLUSTERS) {
      expect(object.metadata.labels?.[stateLabel(WS, c)]).toBe('Sync');
      expect(JSON.parse(object.metadata.annotations?.[clusterStatusAnnotation(WS, c)] ?? '{}')).toMatchObject({
        state: 'applied',
        status: { observedGeneration: generation, ...(readyReplicas ? { readyReplicas } : {}) },
      });
    }
  };

  // One world and one set of clusters for every case (each case its own object): the downstream namespace, created
  // once, is recorded in the table.
  beforeAll(async () => {
    world = await startSyncWorld();
    kube = new FakeConnector();
  });
  afterAll(async () => world.close());
  beforeEach(() => {
    queued = [];
  });

  it('create on three clusters, each report in its own batch: one metadata patch (labels too) and one status patch', async () => {
    const ref = await placedAndApplied('create');
    // sync-apply left the refresh to the reports: nothing written to kcp yet, labels included.
    expect(kcpWrites(ref)).toEqual({});
    const handler = container();
    const reports = [
      ...CLUSTERS.map((c) => report(ref, c, progressing(1))),
      ...CLUSTERS.map((c) => report(ref, c, ready(1))),
    ];
    for (const r of reports) expect(await handler(sqsEvent([r]))).toEqual({ batchItemFailures: [] });
    // The last report writes every cluster's; each held-back refresh came back by itself, delayed.
    expect(kcpWrites(ref)).toEqual({ mergePatch: 1, patchStatus: 1 });
    expect(queued).toHaveLength(reports.length - 1);
    expect(queued.every((q) => q.message.rerun === true && q.delaySeconds === RERUN_DELAY_SECONDS)).toBe(true);
    expectEveryCopyShown(ref, 1, 1);
    // The re-runs find kcp current: they write nothing.
    expect(await drain()).toBe(reports.length - 1);
    expect(kcpWrites(ref)).toEqual({ mergePatch: 1, patchStatus: 1 });
  });

  it('update (a new generation on three clusters): one metadata patch and one status patch', async () => {
    const ref = await placedAndApplied('update');
    const handler = container();
    await handler(sqsEvent(CLUSTERS.map((c) => report(ref, c, ready(1)))));
    await drain();
    const before = kcpWrites(ref);
    const next = { ...deploymentNamed('update', 2), metadata: { ...kcpObject(ref).metadata, generation: 2 } };
    kube.kcpOf(WS).put('deployments', next);
    await applyEverywhere(ref, next);
    for (const c of CLUSTERS) await handler(sqsEvent([report(ref, c, progressing(2))]));
    await handler(sqsEvent(CLUSTERS.map((c) => report(ref, c, ready(2)))));
    await drain();
    const after = kcpWrites(ref);
    expect({
      mergePatch: (after.mergePatch ?? 0) - (before.mergePatch ?? 0),
      patchStatus: (after.patchStatus ?? 0) - (before.patchStatus ?? 0),
    }).toEqual({ mergePatch: 1, patchStatus: 1 });
    expectEveryCopyShown(ref, 2, 1);
  });

  it('a no-op (every cluster re-reports what kcp shows, under a new resourceVersion): zero kcp writes, no re-run', async () => {
    const ref = await placedAndApplied('noop');
    const handler = container();
    await handler(sqsEvent(CLUSTERS.map((c) => report(ref, c, ready(1)))));
    await drain();
    const before = kcpWrites(ref);
    for (const c of CLUSTERS)
      expect(await handler(sqsEvent([report(ref, c, ready(1))]))).toEqual({ batchItemFailures: [] });
    expect(kcpWrites(ref)).toEqual(before);
    expect(queued).toEqual([]);
  });

  it('reports in every order, batching and container, duplicated, out of order or lost: kcp ends at what was stored, no backstop', async () => {
    const random = seededRandom(2026);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const shuffle = <T>(items: T[]): T[] => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    };
    for (let scenario = 0; scenario < 10; scenario++) {
      const ref = await placedAndApplied(`order-${scenario}`);
      const sent = [
        ...CLUSTERS.map((c) => report(ref, c, progressing(1))),
        ...CLUSTERS.map((c) => report(ref, c, ready(1))),
      ];
      // Every other scenario loses one report (a webhook call that failed open); SQS may deliver another twice.
      const lost = scenario % 2 === 1 ? pick(sent) : undefined;
      const reports = shuffle(sent.filter((r) => r !== lost));
      reports.splice(Math.floor(random() * reports.length), 0, pick(reports));
      // Cut into batches of 1–3; two containers take them, each batch concurrently with the next.
      const containers = [container(), container()];
      const runs: Array<Promise<unknown>> = [];
      for (let i = 0, n = 0; i < reports.length; n++) {
        const size = 1 + Math.floor(random() * 3);
        runs.push(containers[n % 2](sqsEvent(reports.slice(i, i + size))));
        i += size;
        if (n % 2 === 1) await Promise.all(runs.splice(0));
      }
      await Promise.all(runs);
      await drain(containers[0]);
      // Each cluster's newest report that arrived (a report older than one stored is stale) is what kcp shows.
      const newest = new Map<string, StatusMessage>();
      for (const r of reports)
        if (Number(r.resourceVersion) > Number(newest.get(r.cluster)?.resourceVersion ?? 0)) newest.set(r.cluster, r);
      const object = kcpObject(ref);
      for (const c of CLUSTERS) {
        expect(object.metadata.labels?.[stateLabel(WS, c)]).toBe('Sync');
        expect(JSON.parse(object.metadata.annotations?.[clusterStatusAnnotation(WS, c)] ?? '{}').status).toEqual(
          newest.get(c)?.status,
        );
      }
      const leastReady = Math.min(...CLUSTERS.map((c) => Number(newest.get(c)?.status?.readyReplicas ?? 0)));
      expect((object.status as { readyReplicas?: number }).readyReplicas ?? 0).toBe(leastReady);
    }
  });

  it('the awaited report never comes (its webhook call lost): the held-back refresh writes what was stored', async () => {
    const ref = await placedAndApplied('lost');
    const handler = container();
    // north's ready report is lost: every refresh before it held back waiting for it or for others.
    await handler(sqsEvent(CLUSTERS.map((c) => report(ref, c, progressing(1)))));
    await handler(sqsEvent([report(ref, 'east', ready(1)), report(ref, 'west', ready(1))]));
    expect(kcpWrites(ref)).toEqual({});
    expect(queued.length).toBeGreaterThan(0);
    await drain();
    const object = kcpObject(ref);
    // What the clusters said, no more: north's copy is not ready, so the least ready copy's count is 0.
    expect(object.status).toMatchObject({ observedGeneration: 1, updatedReplicas: 1 });
    expect((object.status as { readyReplicas?: number }).readyReplicas ?? 0).toBe(0);
    expect(JSON.parse(object.metadata.annotations?.[clusterStatusAnnotation(WS, 'north')] ?? '{}')).toMatchObject({
      status: { unavailableReplicas: 1 },
    });
    expect(JSON.parse(object.metadata.annotations?.[clusterStatusAnnotation(WS, 'east')] ?? '{}')).toMatchObject({
      status: { readyReplicas: 1 },
    });
    expect(kcpWrites(ref)).toEqual({ mergePatch: 1, patchStatus: 1 });
  });

  it('a held-back refresh whose re-run could not be queued fails its message, which is retried and writes', async () => {
    const ref = await placedAndApplied('unsent');
    const failing = makeStatusUpHandler({
      ...world.statusDeps(kube),
      rerunQueue: {
        name: 'status',
        send: async () => {
          throw new Error('SQS unavailable');
        },
      },
    });
    const first = report(ref, 'east', progressing(1));
    expect(await failing(sqsEvent([first]))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(kcpWrites(ref)).toEqual({});
    // The redelivery (receive count 2) never holds back.
    expect(await failing(sqsEvent([first], 2))).toEqual({ batchItemFailures: [] });
    expect(kcpWrites(ref)).toEqual({ mergePatch: 1, patchStatus: 1 });
  });
});
