import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import {
  downstreamNamespace,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SOURCE_ANNOTATION,
  SOURCE_UID_LABEL,
  WORKSPACE_ANNOTATION,
} from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { KubeClient, KubeConnector, KubeObject } from '../../../lib/ports/kube-client';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import { startSimServer, type SimServer } from '../../../lib/sim';
import { memoryLog } from '../../../lib/observability/log';
import { SimConnector } from '../sync/sim-connector';
import { mirror, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

type Gvr = { group: string; version: string; resource: string };
const DEPLOYMENTS: Gvr = { group: 'apps', version: 'v1', resource: 'deployments' };
const CONFIGMAPS: Gvr = { group: '', version: 'v1', resource: 'configmaps' };
const NAMESPACES: Gvr = { group: '', version: 'v1', resource: 'namespaces' };
const DOWNSTREAM = downstreamNamespace(WS, 'default');
const MINUTE = 60_000;

/** Faults injected at the port: what kcp answers tmc for one type, whatever the simulator holds. */
interface KcpFaults {
  /** kcp answers a successful, empty list for these types. */
  emptyList?: (gvr: Gvr) => boolean;
  /** Runs after each successful kcp list (something happens in kcp between that list and the clusters' checks). */
  afterList?: (gvr: Gvr) => void;
}

function withKcpFaults(kube: KubeConnector, faults: KcpFaults): KubeConnector {
  const wrap = (client: KubeClient): KubeClient => ({
    target: client.target,
    get: (name) => client.get(name),
    list: async (type, options) => {
      if (faults.emptyList?.(type)) return [];
      const items = await client.list(type, options);
      faults.afterList?.(type);
      return items;
    },
    apply: (type, object, options) => client.apply(type, object, options),
    mergePatch: (name, patch) => client.mergePatch(name, patch),
    patchStatus: (name, status, options) => client.patchStatus(name, status, options),
    delete: (name) => client.delete(name),
    resources: (options) => client.resources(options),
    ready: () => client.ready(),
  });
  return {
    kcp: async (ws) => wrap(await kube.kcp(ws)),
    cluster: (ws, name) => kube.cluster(ws, name),
    forget: (ws, name) => kube.forget(ws, name),
  };
}

const KINDS: Record<string, string> = { deployments: 'Deployment', configmaps: 'ConfigMap' };

function sourceObject(gvr: Gvr, name: string): KubeObject {
  const base = {
    apiVersion: gvr.group ? `${gvr.group}/${gvr.version}` : gvr.version,
    kind: KINDS[gvr.resource],
    metadata: { name, namespace: 'default' },
  };
  if (gvr.resource === 'configmaps') return { ...base, data: { k: name } };
  return {
    ...base,
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
    },
  };
}

describe('recovery sweep: orphans are deleted only on positive evidence', () => {
  let w: RecoveryWorld;
  let west: SimServer;
  let kube: SimConnector;
  let ticket = 0;

  beforeAll(async () => {
    w = await startRecoveryWorld();
    west = await startSimServer({ name: 'west', mode: 'cluster' });
    kube = new SimConnector(w.kcp, { east: w.east, west });
    const inventory = new DynamoClusterInventory(w.world.doc, w.world.tableName);
    await inventory.putMirror(mirror('east'));
    await inventory.putMirror(mirror('west'));
    for (const c of [w.east, west])
      c.store().create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DOWNSTREAM } });
  });
  afterAll(async () => {
    kube?.close();
    await west?.stop();
    await w?.close();
  });
  beforeEach(() => {
    w.clock.now += 24 * 60 * MINUTE; // each case on a fresh day: no hold, window or absence carries over
  });

  /** An object in kcp, its copy on `cluster` as sync-apply writes it, and its sync item (written at `writtenAt`). */
  async function place(
    gvr: Gvr,
    name: string,
    on: SimServer | SimServer[],
    writtenAt = w.clock.now - 10 * MINUTE,
  ): Promise<ObjectRef> {
    const created = w.kcp.store(WS).create(gvr, sourceObject(gvr, name));
    const uid = created.metadata.uid ?? '';
    const ref: ObjectRef = { workspace: WS, ...gvr, kind: KINDS[gvr.resource], namespace: 'default', name, uid };
    const copy = sourceObject(gvr, name);
    copy.metadata = {
      name,
      namespace: DOWNSTREAM,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [SOURCE_UID_LABEL]: uid },
      annotations: {
        [WORKSPACE_ANNOTATION]: WS,
        [SOURCE_ANNOTATION]: JSON.stringify({ ...gvr, kind: ref.kind, namespace: 'default', name }),
      },
    };
    const clusters = Array.isArray(on) ? on : [on];
    for (const cluster of clusters) cluster.store().create(gvr, structuredClone(copy));
    for (const cluster of clusters) {
      await w.world.syncState.put({
        ref,
        cluster: cluster.name,
        state: 'applied',
        decisionVersion: 1,
        appliedGeneration: 1,
        downstreamNamespace: DOWNSTREAM,
        updatedAt: new Date(writtenAt).toISOString(),
      });
    }
    return ref;
  }
  const copies = (cluster: SimServer, gvr: Gvr, prefix: string): string[] =>
    cluster
      .store()
      .list(gvr, DOWNSTREAM)
      .map((o) => o.metadata.name ?? '')
      .filter((n) => n.startsWith(prefix))
      .sort();
  const names = (prefix: string, n: number): string[] =>
    Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
  const sweep = (faults: KcpFaults = {}): ReturnType<typeof runRecoverySweep> =>
    runRecoverySweep({ ...w.deps(), kube: withKcpFaults(kube, faults) });

  it('kcp lists one type empty (Deployments) while the others answer: nothing is deleted, the type is held, and the hold resolves once kcp lists them again', async () => {
    const p = `d1-${++ticket}`;
    for (const n of names(`${p}-deploy`, 12)) await place(DEPLOYMENTS, n, w.east);
    for (const n of names(`${p}-cm`, 12)) await place(CONFIGMAPS, n, w.east);
    const emptyDeployments = { emptyList: (gvr: Gvr) => gvr.resource === 'deployments' };

    // Half of the cluster's tmc objects look orphaned: counted per type, all 12 Deployments, so the batch is held.
    const report = await sweep(emptyDeployments);
    expect(report.failures).toEqual([]);
    expect(report.actions['deletion-hold:held']).toBe(1);
    expect(report.actions['orphan-delete:succeeded']).toBeUndefined();
    expect(copies(w.east, DEPLOYMENTS, p)).toHaveLength(12);
    const holds = await w.store.holds();
    const hold = holds.find((h) => h.scope === `cluster:east/${WS}/apps/v1/deployments`);
    expect(hold).toMatchObject({ planned: 12, total: 12 });
    expect(hold?.reason).toContain('tmc recovery confirm cluster:east/');

    // Still empty a minute later: still held (the recheck delay is ten minutes), still nothing deleted.
    w.clock.now += MINUTE;
    expect((await sweep(emptyDeployments)).actions['orphan-delete:succeeded']).toBeUndefined();
    expect(copies(w.east, DEPLOYMENTS, p)).toHaveLength(12);

    // kcp lists them again: nothing left to delete in that scope, so the hold is resolved; every copy is there.
    w.clock.now += MINUTE;
    const healed = await sweep();
    expect(healed.actions['orphan-delete:succeeded']).toBeUndefined();
    expect((await w.store.holds()).map((h) => h.scope)).not.toContain(hold?.scope);
    expect(copies(w.east, DEPLOYMENTS, p)).toHaveLength(12);
    expect(copies(w.east, CONFIGMAPS, p)).toHaveLength(12);
  });

  it('the same empty answer past the recheck delay releases the hold, yet a direct GET still finds every object: nothing is deleted', async () => {
    const p = `d1b-${++ticket}`;
    for (const n of names(`${p}-deploy`, 8)) await place(DEPLOYMENTS, n, west);
    const emptyDeployments = { emptyList: (gvr: Gvr) => gvr.resource === 'deployments' };
    expect((await sweep(emptyDeployments)).actions['deletion-hold:held']).toBeGreaterThanOrEqual(1);
    expect(await w.store.hold(`cluster:west/${WS}/apps/v1/deployments`)).toMatchObject({ planned: 8, total: 8 });
    w.clock.now += 11 * MINUTE;
    const report = await sweep(emptyDeployments);
    expect(report.actions['deletion-hold:held']).toBeUndefined(); // released: the same answer after the delay
    expect(report.actions['orphan-delete:succeeded']).toBeUndefined();
    expect(report.actions['orphan-delete:waiting']).toBeUndefined(); // kcp's GET has every one
    expect(copies(west, DEPLOYMENTS, p)).toHaveLength(8);
  });

  it('under churn, a held orphan goes once every sweep has planned it for the recheck delay, though newer orphans keep changing the plan', async () => {
    const p = `churn-${++ticket}`;
    const all = names(p, 12);
    for (const n of all) await place(CONFIGMAPS, n, west);
    // A namespace deleted in kcp while its DELETE admissions were lost: 7 of the 12 vanish at once, a mass deletion.
    for (const n of all.slice(0, 7)) w.kcp.store(WS).delete(CONFIGMAPS, 'default', n);
    const raised = await sweep();
    expect(raised.actions['deletion-hold:held']).toBe(1);
    const scope = `cluster:west/${WS}/v1/configmaps`;
    expect(await w.store.hold(scope)).toMatchObject({ planned: 7, total: 12 });

    // The workload keeps deleting (its admissions lost too): every other minute one more orphan joins the plan, so
    // the planned set is never the same twice in a row.
    const deletedAt = new Map<string, number>();
    for (let minute = 1; minute <= 11; minute++) {
      w.clock.now += MINUTE;
      const next = all[6 + minute / 2];
      if (minute % 2 === 0 && minute <= 6 && next) {
        w.kcp.store(WS).delete(CONFIGMAPS, 'default', next);
      }
      const report = await sweep();
      expect(report.failures).toEqual([]);
      for (const n of all) if (!deletedAt.has(n) && !copies(west, CONFIGMAPS, n).length) deletedAt.set(n, minute);
    }
    // The first seven were planned in every sweep since the hold was raised: past the ten-minute recheck they go (the
    // sweep at minute 10 sees them first by a direct GET, the one at minute 11 confirms and deletes).
    expect(all.slice(0, 7).map((n) => deletedAt.get(n))).toEqual([11, 11, 11, 11, 11, 11, 11]);
    // The later ones wait their own ten minutes; the two kcp still has are never touched.
    expect(copies(west, CONFIGMAPS, p)).toEqual(all.slice(7));
    expect((await w.store.hold(scope))?.confirmedUntil).toBeUndefined(); // still held for the newer ones
    for (let minute = 12; minute <= 20; minute++) {
      w.clock.now += MINUTE;
      expect((await sweep()).failures).toEqual([]);
    }
    expect(copies(west, CONFIGMAPS, p)).toEqual(all.slice(10));
  });

  it('objects created in kcp after the sweep listed it are not orphans on the clusters checked later', async () => {
    const p = `d8-${++ticket}`;
    for (const n of names(`${p}-old`, 6)) await place(CONFIGMAPS, n, [w.east, west]);
    // Right after the sweep's first kcp list of ConfigMaps (on whichever cluster it checks first), two objects are
    // created and synced to both clusters: one with its sync items written then (newer than the list), one whose
    // items are older than the list (only a GET can tell). The cluster checked second compares them with that list.
    let created: Promise<unknown> | undefined;
    const afterList = (gvr: Gvr): void => {
      if (created || gvr.resource !== 'configmaps') return;
      created = Promise.all([
        place(CONFIGMAPS, `${p}-fresh`, [w.east, west], w.clock.now),
        place(CONFIGMAPS, `${p}-fresh-old-item`, [w.east, west], w.clock.now - 10 * MINUTE),
      ]);
    };
    for (let i = 0; i < 3; i++) {
      const report = await sweep({ afterList });
      expect(report.failures).toEqual([]);
      expect(report.actions['orphan-delete:succeeded']).toBeUndefined();
      w.clock.now += MINUTE;
    }
    await created;
    const all = [...names(`${p}-old`, 6), `${p}-fresh`, `${p}-fresh-old-item`].sort();
    expect(copies(w.east, CONFIGMAPS, p)).toEqual(all);
    expect(copies(west, CONFIGMAPS, p)).toEqual(all);
  });

  it('kcp answers 404 to the LIST of a type it serves (a CRD being reinstalled): an error, never an empty list; nothing is deleted', async () => {
    const p = `l404-${++ticket}`;
    for (const n of names(p, 6)) await place(DEPLOYMENTS, n, w.east);
    w.kcp.faults.set({ rules: [{ match: { verb: 'list', group: 'apps', resource: 'deployments' }, respond: 404 }] });
    try {
      for (let i = 0; i < 2; i++) {
        const report = await sweep();
        expect(report.failures.length).toBeGreaterThan(0);
        expect(report.actions['orphan-delete:waiting']).toBeUndefined();
        expect(report.actions['deletion-hold:held']).toBeUndefined();
        w.clock.now += MINUTE;
      }
    } finally {
      w.kcp.faults.clear();
    }
    expect(copies(w.east, DEPLOYMENTS, p)).toHaveLength(6);
    expect(
      await w.store.absence({
        workspace: WS,
        ...DEPLOYMENTS,
        kind: 'Deployment',
        namespace: 'default',
        name: `${p}-00`,
      }),
    ).toBeUndefined();
  });

  it('a real orphan is deleted only when a sweep a delay later confirms it, logged at WARN, counted, and placement is asked again', async () => {
    const p = `real-${++ticket}`;
    for (const n of names(p, 6)) await place(CONFIGMAPS, n, w.east);
    w.kcp.store(WS).delete(CONFIGMAPS, 'default', `${p}-05`);

    const first = await sweep();
    expect(first.actions['orphan-delete:waiting']).toBe(1);
    expect(first.actions['orphan-delete:succeeded']).toBeUndefined();
    expect(copies(w.east, CONFIGMAPS, p)).toHaveLength(6);

    w.clock.now += MINUTE;
    const metricsBefore = w.metrics.length;
    const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
    const second = await runRecoverySweep({ ...w.deps(), kube, log: memoryLog(lines) });
    expect(lines.filter((l) => l.message.startsWith('Deleting orphan'))).toEqual([
      expect.objectContaining({
        level: 'warn',
        attributes: expect.objectContaining({
          workspace: WS,
          cluster: 'east',
          gvr: 'v1/configmaps',
          namespace: 'default',
          name: `${p}-05`,
        }),
      }),
    ]);
    expect(second.actions['orphan-delete:succeeded']).toBe(1);
    expect(copies(w.east, CONFIGMAPS, p)).toEqual(names(p, 5));
    expect(w.metrics.slice(metricsBefore)).toContainEqual({
      name: 'tmc_recovery_orphan_deletions_total',
      labels: { cluster: 'east', resource: 'v1/configmaps' },
      value: undefined,
    });
    expect(
      (
        await w.store.absence({
          workspace: WS,
          ...CONFIGMAPS,
          kind: 'ConfigMap',
          namespace: 'default',
          name: `${p}-05`,
        })
      )?.confirmedAt,
    ).toBe(w.clock.now);
  });
});
