import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { renderCrdFiles } from '../../../lib/api/crds/crd-builder';
import { downstreamNamespace } from '../../../lib/api/labels';
import type { StatusMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { issueStatusCredential, StatusCredentialAuthenticator } from '../../../lib/auth/status-credentials';
import { InMemoryHealthStore } from '../../../lib/ports/health-store';
import type { KubeConnector, KubeObject } from '../../../lib/ports/kube-client';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { startSimServer, type SimServer } from '../../../lib/sim';
import { kubeconfigFor } from '../../../lib/sim/kubeconfig';
import { memoryLog } from '../../../lib/observability/log';
import { Syncer, SyncerStartupError, type SyncerOptions } from '../../../lib/syncer/syncer';
import { noMetrics } from '../../../lib/ports/telemetry';
import { makeSyncerApiHandler } from '../../../lib/vw/syncer-api';
import { syncerSubject } from '../../../lib/vw/syncer-view';
import * as build from '../../support/builders';
import { MemoryStatusCredentialStore } from '../../unit/ingress/fakes';
import { SimConnector } from '../sync/sim-connector';
import { serveVirtualWorkspace } from './serve-virtual-workspace';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from '../sync/world';

const WS = 'root:team-a';
const syncerLog = memoryLog();
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const SYNC_TARGETS = { group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets' };

describe('pull mode: sync-apply hands work to the syncer, which applies it through the virtual workspace', () => {
  let kcp: SimServer;
  let lab: SimServer;
  let world: SyncWorld;
  let kcpOnly: SimConnector;
  let vw: { server: Server; url: string };
  let statusSent: StatusMessage[];
  let dir: string;
  let options: SyncerOptions;
  let depRef: ObjectRef;
  let dep: KubeObject;
  let labUid: string;

  beforeAll(async () => {
    kcp = await startSimServer({ name: 'kcp', mode: 'kcp' });
    lab = await startSimServer({ name: 'lab', mode: 'cluster', workloads: { readyDelayMs: 50 } });
    kcp.createLogicalCluster(WS);
    const store = kcp.store(WS);
    const crd = parseAllDocuments(renderCrdFiles()['workload.kcp.io_synctargets.yaml'])[0].toJS() as KubeObject;
    store.create({ group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' }, crd);
    const target = store.create(SYNC_TARGETS, {
      apiVersion: 'workload.kcp.io/v1alpha1',
      kind: 'SyncTarget',
      metadata: { name: 'lab' },
      spec: { workloadCluster: { name: 'lab', endpoint: lab.serverUrl() } },
    });
    labUid = target.metadata.uid ?? '';
    dep = store.create(
      DEPLOYMENTS,
      build.deployment('web', { namespace: 'default', labels: { app: 'web' }, replicas: 2, container: 'web' }),
    );
    depRef = refOf(WS, dep, 'apps', 'deployments');
    world = await startSyncWorld();
    await world.putDecision(depRef, 1, [{ name: 'lab', replicas: 2 }]);
    await world.putCluster(WS, 'lab');
    // tmc's functions: kcp only; lab is in pull mode and any call to it fails the test.
    kcpOnly = new SimConnector(kcp, {});
    statusSent = [];
    const credentials = new MemoryStatusCredentialStore();
    const token = await issueStatusCredential(credentials, syncerSubject(WS, 'lab'));
    vw = await serveVirtualWorkspace(
      makeSyncerApiHandler({
        syncState: world.syncState,
        kube: kcpOnly,
        health: new InMemoryHealthStore(),
        statusQueue: { name: 'status', send: async (m) => void statusSent.push(...m) },
        authenticator: new StatusCredentialAuthenticator(credentials),
      }),
    );
    dir = mkdtempSync(join(tmpdir(), 'tmc-syncer-'));
    const vwKubeconfig = stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'vw', cluster: { server: `${vw.url}/syncers/${WS}/lab` } }],
      users: [{ name: 'syncer', user: { token } }],
      contexts: [{ name: 'vw', context: { cluster: 'vw', user: 'syncer' } }],
      'current-context': 'vw',
    });
    writeFileSync(join(dir, 'vw.kubeconfig'), vwKubeconfig);
    writeFileSync(join(dir, 'lab.kubeconfig'), kubeconfigFor('lab', lab.serverUrl(), 'lab-token'));
    options = {
      syncTargetName: 'lab',
      syncTargetUid: labUid,
      workspace: WS,
      kcpKubeconfig: join(dir, 'vw.kubeconfig'),
      clusterKubeconfig: join(dir, 'lab.kubeconfig'),
      resyncSeconds: 3600,
      heartbeatSeconds: 3600,
      qps: 50,
      burst: 50,
      log: syncerLog,
      metrics: noMetrics,
    };
  });
  afterAll(async () => {
    kcpOnly.close();
    await new Promise((resolve) => vw.server.close(resolve));
    await world.close();
    await Promise.all([kcp.stop(), lab.stop()]);
  });

  const pullConnector = (): KubeConnector => ({
    kcp: (ws) => kcpOnly.kcp(ws),
    cluster: async () => Promise.reject(new Error('a function called a pull-mode cluster')),
    syncMode: async () => 'Pull',
    forget: () => undefined,
  });
  const labWrites = (resource?: string): number =>
    lab.requests.count({ writes: true, ...(resource ? { resource } : {}) });

  it('sync-apply never calls the cluster: it records the item pending and returns', async () => {
    const handler = makeSyncApplyHandler(world.applyDeps(pullConnector()));
    expect(await handler(sqsEvent([syncMessage(depRef, 'lab', 1, { object: dep })]))).toEqual({
      batchItemFailures: [],
    });
    expect(lab.requests.count({})).toBe(0);
    expect(await world.syncState.get(depRef, 'lab')).toMatchObject({ state: 'pending', decisionVersion: 1 });
  });

  it.each([
    ['a uid that does not match', { syncTargetUid: 'not-the-uid' }, /does not match SyncTarget lab/],
    ['an unreadable cluster kubeconfig', { clusterKubeconfig: '/nonexistent/kubeconfig' }, /could not be read/],
    ['a virtual-workspace kubeconfig without a token', { kcpKubeconfig: '/nonexistent/vw' }, /could not be read/],
  ])('refuses to start with %s', async (_label, override, message) => {
    await expect(Syncer.create({ ...options, ...override })).rejects.toThrow(SyncerStartupError);
    await expect(Syncer.create({ ...options, ...override })).rejects.toThrow(message);
  });

  it('applies the listed work with the shared sync code and records it in DynamoDB as sync-apply does', async () => {
    const syncer = await Syncer.create(options);
    const putsBefore = world.syncPuts.length;
    expect(await syncer.fullPass()).toEqual({ items: 1, failed: false });
    await syncer.stop();
    const ns = downstreamNamespace(WS, 'default');
    expect(lab.store().get(DEPLOYMENTS, ns, 'web')?.spec).toMatchObject({ replicas: 2 });
    expect(labWrites('deployments')).toBe(1);
    const record = await world.syncState.get(depRef, 'lab');
    expect(record).toMatchObject({
      state: 'applied',
      downstreamNamespace: ns,
      appliedGeneration: dep.metadata.generation,
    });
    expect(record?.appliedHash).toBeDefined();
    // The Deployment's item and its downstream namespace's, as sync-apply writes them in push mode.
    expect(
      world.syncPuts
        .slice(putsBefore)
        .map((r) => `${r.ref.resource}:${r.state}`)
        .sort(),
    ).toEqual(['deployments:applied', 'namespaces:applied']);
  });

  it('a restarted syncer resyncs at the floor: zero writes on the cluster and in DynamoDB', async () => {
    const clusterBefore = labWrites();
    const putsBefore = world.syncPuts.length;
    const syncer = await Syncer.create(options);
    expect(await syncer.fullPass()).toEqual({ items: 2, failed: false });
    await syncer.stop();
    expect(labWrites()).toBe(clusterBefore);
    expect(world.syncPuts.length).toBe(putsBefore);
  });

  it('a scale in kcp is one apply downstream', async () => {
    const current = kcp.store(WS).get(DEPLOYMENTS, 'default', 'web') as KubeObject;
    // A scale is a new generation in kcp: the message sync-apply forwards carries it.
    const scaled = {
      ...current,
      metadata: { ...current.metadata, generation: (current.metadata.generation ?? 1) + 1 },
      spec: { ...(current.spec as object), replicas: 5 },
    };
    kcp.store(WS).delete(DEPLOYMENTS, 'default', 'web');
    kcp.store(WS).create(DEPLOYMENTS, scaled);
    const syncer = await Syncer.create(options);
    const before = labWrites('deployments');
    // Placement divides the new replica count: its next decision gives lab all 5.
    await world.putDecision(depRef, 2, [{ name: 'lab', replicas: 5 }]);
    const result = await syncer.reconcile({ ...syncMessage(depRef, 'lab', 2), generation: scaled.metadata.generation });
    await syncer.stop();
    expect(result).toEqual({ result: 'applied' });

    expect(labWrites('deployments')).toBe(before + 1);
    expect(lab.store().get(DEPLOYMENTS, downstreamNamespace(WS, 'default'), 'web')?.spec).toMatchObject({
      replicas: 5,
    });
  });
});
