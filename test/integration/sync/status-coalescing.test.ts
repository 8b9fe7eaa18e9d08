import { clusterStatusAnnotation, stateLabel } from '../../../lib/api/labels';
import type { StatusMessage, SyncMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/ports/kube-client';
import type { WorkQueue } from '../../../lib/ports/work-queue';
import { makeStatusUpHandler } from '../../../lib/runtime/status-up';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { configMap, deployment } from '../../support/builders';
import { RERUN_DELAY_SECONDS } from '../../../lib/sync/status/batch-refresh';
import { syncOne } from '../../../lib/sync/apply';
import { RefreshAfterBatch } from '../../../lib/sync/status/refresh-after-batch';
import { makeStatusReporter } from '../../../lib/sync/status/report-status';
import { memoryLog } from '../../../lib/observability/log';
import { seededRandom } from '../../../lib/sim/seeded-random';
import type { SQSEvent } from 'aws-lambda';
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

/**
 * Delivers `sent` as SQS may: in a seeded random order, one message lost when `loseOne`, another delivered twice, cut
 * into batches of 1–3 that two containers take, each batch concurrently with the next. Resolves once every batch ran,
 * with what was delivered and what was lost.
 */
async function deliverScrambled<T>(
  random: () => number,
  sent: readonly T[],
  loseOne: boolean,
  containers: ReadonlyArray<(event: SQSEvent) => Promise<unknown>>,
): Promise<{ delivered: T[]; lost: T | undefined }> {
  const pick = <U>(items: readonly U[]): U => items[Math.floor(random() * items.length)];
  const lost = loseOne ? pick(sent) : undefined;
  const delivered = sent.filter((m) => m !== lost);
  for (let i = delivered.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [delivered[i], delivered[j]] = [delivered[j], delivered[i]];
  }
  delivered.splice(Math.floor(random() * delivered.length), 0, pick(delivered));
  const runs: Array<Promise<unknown>> = [];
  for (let i = 0, n = 0; i < delivered.length; n++) {
    const size = 1 + Math.floor(random() * 3);
    runs.push(containers[n % containers.length](sqsEvent(delivered.slice(i, i + size))));
    i += size;
    if (n % containers.length === containers.length - 1) await Promise.all(runs.splice(0));
  }
  await Promise.all(runs);
  return { delivered, lost };
}

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
  /**
   * sync-apply's batch: its refresh is left to the clusters' reports, which follow a new downstream generation.
   * `beforeFlush` runs once every cluster is applied, before the batch's refreshes; with it, held refreshes' re-runs
   * go to the status queue as the function's do.
   */
  const applyEverywhere = async (
    ref: ObjectRef,
    object: KubeObject,
    beforeFlush?: () => Promise<void>,
  ): Promise<void> => {
    const refreshes = new RefreshAfterBatch(
      makeStatusReporter({ kube, snapshot: world.snapshot }),
      memoryLog(),
      world.snapshot,
      beforeFlush && ((reruns) => rerunQueue.send(reruns, { delaySeconds: RERUN_DELAY_SECONDS })),
    );
    const deps = { ...world.applyDeps(kube), status: refreshes };
    for (const c of CLUSTERS)
      expect(await syncOne(deps, syncMessage(ref, c, 1, { object }), 1)).toMatchObject({ result: 'applied' });
    await beforeFlush?.();
    await refreshes.flush();
  };
  /** An object applied and reported ready everywhere at generation 1, then changed in kcp to generation 2. */
  const settledThenChanged = async (
    name: string,
  ): Promise<{ ref: ObjectRef; next: KubeObject; writesSince: () => Record<string, number> }> => {
    const ref = await placedAndApplied(name);
    await container()(sqsEvent(CLUSTERS.map((c) => report(ref, c, ready(1)))));
    await drain();
    const before = kcpWrites(ref);
    const next = { ...deploymentNamed(name, 2), metadata: { ...kcpObject(ref).metadata, generation: 2 } };
    kube.kcpOf(WS).put('deployments', next);
    const writesSince = (): Record<string, number> => {
      const after = kcpWrites(ref);
      return {
        mergePatch: (after.mergePatch ?? 0) - (before.mergePatch ?? 0),
        patchStatus: (after.patchStatus ?? 0) - (before.patchStatus ?? 0),
      };
    };
    return { ref, next, writesSince };
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
    // The last report writes every cluster's. Five refreshes held back, one re-run message: the container's queued
    // re-run of the object, delayed, reads the table after every later report too.
    expect(kcpWrites(ref)).toEqual({ mergePatch: 1, patchStatus: 1 });
    expect(queued.map((q) => [q.message.ref.name, q.message.rerun, q.delaySeconds])).toEqual([
      ['create', true, RERUN_DELAY_SECONDS],
    ]);
    expectEveryCopyShown(ref, 1, 1);
    // The re-run finds kcp current: it writes nothing.
    expect(await drain()).toBe(1);
    expect(kcpWrites(ref)).toEqual({ mergePatch: 1, patchStatus: 1 });
  });

  it('update (a new generation on three clusters): one metadata patch and one status patch', async () => {
    const { ref, next, writesSince } = await settledThenChanged('update');
    const handler = container();
    await applyEverywhere(ref, next);
    for (const c of CLUSTERS) await handler(sqsEvent([report(ref, c, progressing(2))]));
    await handler(sqsEvent(CLUSTERS.map((c) => report(ref, c, ready(2)))));
    await drain();
    expect(writesSince()).toEqual({ mergePatch: 1, patchStatus: 1 });
    expectEveryCopyShown(ref, 2, 1);
  });

  it("update whose reports race ahead of sync-apply's records: one metadata patch and one status patch", async () => {
    const { ref, next, writesSince } = await settledThenChanged('raced');
    const handler = container();
    // Each cluster answers the apply at once: its reports are stored before sync-apply's batch ends.
    await applyEverywhere(ref, next, async () => {
      for (const c of CLUSTERS) await handler(sqsEvent([report(ref, c, ready(2))]));
    });
    await drain();
    expect(writesSince()).toEqual({ mergePatch: 1, patchStatus: 1 });
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
    for (let scenario = 0; scenario < 10; scenario++) {
      const ref = await placedAndApplied(`order-${scenario}`);
      const sent = [
        ...CLUSTERS.map((c) => report(ref, c, progressing(1))),
        ...CLUSTERS.map((c) => report(ref, c, ready(1))),
      ];
      // Every other scenario loses one report (a webhook call that failed open); SQS delivers another twice.
      const containers = [container(), container()];
      const { delivered: reports } = await deliverScrambled(random, sent, scenario % 2 === 1, containers);
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
  describe("sync-apply's refreshes of a kind without status (ConfigMaps): one write for every cluster's apply", () => {
    /** One sync-apply container: its own reporter, locks and namespace cache; held refreshes' re-runs go to `queued`. */
    const applier = (): ReturnType<typeof makeSyncApplyHandler> =>
      makeSyncApplyHandler({ ...world.applyDeps(kube), statusSnapshot: world.snapshot, rerunQueue });
    const configMapWrites = (name: string): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const call of kube.kcpOf(WS).calls)
        if (call.key === `configmaps|default|${name}` && WRITES.has(call.verb))
          out[call.verb] = (out[call.verb] ?? 0) + 1;
      return out;
    };
    /** kcp has the ConfigMap (and, with `user`, a Deployment that references it); placement put both everywhere. */
    const placed = async (
      name: string,
      user?: string,
    ): Promise<{ cm: ObjectRef; deploy?: ObjectRef; messages: SyncMessage[] }> => {
      const cmObject = { ...configMap(name), metadata: { name, namespace: 'default', uid: `uid-${name}` } };
      kube.kcpOf(WS).put('configmaps', cmObject);
      const cm = refOf(WS, cmObject, '', 'configmaps');
      await world.putDecision(
        cm,
        1,
        CLUSTERS.map((c) => ({ name: c })),
      );
      const messages = CLUSTERS.map((c) =>
        syncMessage(cm, c, 1, { trace: { traceId: `t-${name}-${c}`, enqueuedAt: new Date().toISOString() } }),
      );
      if (!user) return { cm, messages };
      const deployObject = deployment(user, {
        envFrom: [{ configMapRef: { name } }],
        metadata: { uid: `uid-${user}`, generation: 1 },
      });
      kube.kcpOf(WS).put('deployments', deployObject);
      const deploy = refOf(WS, deployObject, 'apps', 'deployments');
      await world.putDecision(
        deploy,
        1,
        CLUSTERS.map((c) => ({ name: c, replicas: 1 })),
        undefined,
        {
          replicaMode: 'Duplicated',
        },
      );
      return {
        cm,
        deploy,
        messages: [...messages, ...CLUSTERS.map((c) => syncMessage(deploy, c, 1, { object: deployObject }))],
      };
    };
    /** Each placed cluster's detail on the kcp ConfigMap is what its sync item says (none: pending, not applied yet). */
    const expectTableShown = async (cm: ObjectRef): Promise<void> => {
      const object = kube.kcpOf(WS).find('configmaps', 'default', cm.name) as KubeObject;
      const records = new Map((await world.syncState.listForObject(cm)).map((r) => [r.cluster, r]));
      for (const c of CLUSTERS) {
        const detail = JSON.parse(object.metadata.annotations?.[clusterStatusAnnotation(WS, c)] ?? '{}');
        expect({ cluster: c, state: detail.state }).toEqual({ cluster: c, state: records.get(c)?.state ?? 'pending' });
        // Placement's state label, written with the first refresh: every placed cluster, applied yet or not.
        expect(object.metadata.labels?.[stateLabel(WS, c)]).toBe('Sync');
      }
    };

    it('each cluster in its own batch: the last apply writes once (labels too); the re-runs find kcp current', async () => {
      const { cm, messages } = await placed('cm-apart');
      const handler = applier();
      for (const m of messages) expect(await handler(sqsEvent([m]))).toEqual({ batchItemFailures: [] });
      expect(configMapWrites(cm.name)).toEqual({ mergePatch: 1 });
      // east's and west's batches each held the refresh back; west's counts on the re-run east's queued.
      expect(queued.map((q) => [q.message.ref.name, q.message.cluster, q.message.rerun, q.delaySeconds])).toEqual([
        [cm.name, 'east', true, RERUN_DELAY_SECONDS],
      ]);
      await expectTableShown(cm);
      expect(await drain()).toBe(1);
      expect(configMapWrites(cm.name)).toEqual({ mergePatch: 1 });
    });

    it("applied ahead as a Deployment's dependency on each cluster: one write, and its own messages write nothing", async () => {
      const { cm, messages } = await placed('cm-dep', 'uses-cm-dep');
      const handler = applier();
      // The Deployment's messages first (each applies the ConfigMap on its cluster), then the ConfigMap's own.
      for (const m of [...messages.slice(3), ...messages.slice(0, 3)])
        expect(await handler(sqsEvent([m]))).toEqual({ batchItemFailures: [] });
      expect(configMapWrites(cm.name)).toEqual({ mergePatch: 1 });
      await drain();
      expect(configMapWrites(cm.name)).toEqual({ mergePatch: 1 });
      await expectTableShown(cm);
    });

    it("the last cluster's message is lost: the held refreshes' re-runs write what the table holds", async () => {
      const { cm, messages } = await placed('cm-lost');
      const handler = applier();
      for (const m of messages.slice(0, 2)) expect(await handler(sqsEvent([m]))).toEqual({ batchItemFailures: [] });
      expect(configMapWrites(cm.name)).toEqual({});
      await drain();
      expect(configMapWrites(cm.name)).toEqual({ mergePatch: 1 });
      await expectTableShown(cm);
    });

    it('a re-run that could not be queued: the held refresh writes at once instead', async () => {
      const { cm, messages } = await placed('cm-unsent');
      const handler = makeSyncApplyHandler({
        ...world.applyDeps(kube),
        statusSnapshot: world.snapshot,
        rerunQueue: {
          name: 'status',
          send: async () => {
            throw new Error('SQS unavailable');
          },
        },
      });
      expect(await handler(sqsEvent([messages[0]]))).toEqual({ batchItemFailures: [] });
      expect(configMapWrites(cm.name)).toEqual({ mergePatch: 1 });
      await expectTableShown(cm);
    });

    it('messages in every order, batching and container, duplicated or lost: kcp ends at what the table holds', async () => {
      const random = seededRandom(1206);
      for (let scenario = 0; scenario < 12; scenario++) {
        // Two ConfigMaps: one alone, one a Deployment's dependency (applied ahead by the Deployment's messages).
        const alone = await placed(`cm-order-${scenario}`);
        const dep = await placed(`cm-dep-order-${scenario}`, `uses-order-${scenario}`);
        // Every other scenario loses one message; SQS delivers another twice.
        const { lost } = await deliverScrambled(random, [...alone.messages, ...dep.messages], scenario % 2 === 1, [
          applier(),
          applier(),
        ]);
        await drain(container());
        await expectTableShown(alone.cm);
        await expectTableShown(dep.cm);
        if (!lost) {
          // Nothing lost: every cluster's apply is on each ConfigMap, written by one metadata patch (a second only as a
          // 409 of two containers' last refreshes colliding).
          for (const cm of [alone.cm, dep.cm]) expect(configMapWrites(cm.name).mergePatch).toBeLessThanOrEqual(2);
        }
      }
    });
  });
});
