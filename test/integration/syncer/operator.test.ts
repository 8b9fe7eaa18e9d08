import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { renderCrdFiles } from '../../../lib/api/crds/crd-builder';
import { downstreamNamespace } from '../../../lib/api/labels';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { issueStatusCredential, StatusCredentialAuthenticator } from '../../../lib/auth/status-credentials';
import { InMemoryHealthStore } from '../../../lib/ports/health-store';
import type { KubeConnector, KubeObject } from '../../../lib/ports/kube-client';
import { noMetrics } from '../../../lib/ports/telemetry';
import { makeSyncApplyHandler } from '../../../lib/runtime/sync-apply';
import { startSimServer, type SimServer } from '../../../lib/sim';
import { kubeconfigFor } from '../../../lib/sim/kubeconfig';
import { memoryLog } from '../../../lib/observability/log';
import { SYNCER_VERBS, syncerManifest, syncerObjectName } from '../../../lib/syncer/manifest';
import { Syncer, type SyncerOptions } from '../../../lib/syncer/syncer';
import { makeSyncerApiHandler } from '../../../lib/vw/syncer-api';
import { syncerSubject } from '../../../lib/vw/syncer-view';
import * as build from '../../support/builders';
import { kubectlOk } from '../../support/kubectl';
import { waitFor } from '../../support/wait';
import { MemoryStatusCredentialStore } from '../../unit/ingress/fakes';
import { SimConnector } from '../sync/sim-connector';
import { refOf, sqsEvent, startSyncWorld, syncMessage, type SyncWorld } from '../sync/world';
import { serveVirtualWorkspace } from './serve-virtual-workspace';

const WS = 'root:ops';
const NAMESPACE = 'tmc-syncer';
const SA_USER = `system:serviceaccount:${NAMESPACE}:${syncerObjectName('lab')}`;
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const SYNC_TARGETS = { group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets' };
const vwKubeconfig = (url: string, token: string): string =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'vw', cluster: { server: `${url}/syncers/${WS}/lab` } }],
    users: [{ name: 'syncer', user: { token } }],
    contexts: [{ name: 'vw', context: { cluster: 'vw', user: 'syncer' } }],
    'current-context': 'vw',
  });
const digest = (token: string): string => createHash('sha256').update(token).digest('hex').slice(0, 12);

/**
 * The operator's side of pull mode: `tmc syncer manifest`'s objects applied with kubectl to a simulated cluster that
 * enforces RBAC for ServiceAccount tokens, the syncer run with exactly that ServiceAccount's permissions, and the
 * syncer's credentials rotated under it.
 */
describe('pull mode, operator side: the manifest on a cluster, least RBAC, rotated credentials', () => {
  let kcp: SimServer;
  let lab: SimServer;
  let world: SyncWorld;
  let kcpOnly: SimConnector;
  let vw: { server: Server; url: string };
  let credentials: MemoryStatusCredentialStore;
  /** Which credential (by digest) each virtual-workspace request carried, and its answer. */
  const seen: Array<{ token: string; status: number }> = [];
  let dir: string;
  let admin: string;
  let options: SyncerOptions;
  let firstToken: string;
  let saToken: string;
  const syncers: Syncer[] = [];

  const pullConnector = (): KubeConnector => ({
    kcp: (ws) => kcpOnly.kcp(ws),
    cluster: async () => Promise.reject(new Error('a function called a pull-mode cluster')),
    syncMode: async () => 'Pull',
    forget: () => undefined,
  });
  /** A Deployment reading a ConfigMap, in kcp, placed on lab and handed to the syncer by sync-apply. */
  const place = async (namespace: string): Promise<ObjectRef> => {
    const store = kcp.store(WS);
    if (!store.get({ group: '', version: 'v1', resource: 'namespaces' }, undefined, namespace))
      store.create(
        { group: '', version: 'v1', resource: 'namespaces' },
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: namespace },
        },
      );
    const config = store.create(CONFIGMAPS, build.configMap('web-config', { namespace }));
    // The namespace's objects are all placed there (the virtual workspace serves the syncer only those).
    await world.putDecision(refOf(WS, config, '', 'configmaps'), 1, [{ name: 'lab' }]);
    const dep = store.create(
      DEPLOYMENTS,
      build.deployment('web', {
        namespace,
        replicas: 2,
        envFrom: [{ configMapRef: { name: 'web-config' } }],
      }),
    );
    const ref = refOf(WS, dep, 'apps', 'deployments');
    await world.putDecision(ref, 1, [{ name: 'lab', replicas: 2 }]);
    const handler = makeSyncApplyHandler(world.applyDeps(pullConnector()));
    expect(await handler(sqsEvent([syncMessage(ref, 'lab', 1, { object: dep })]))).toEqual({ batchItemFailures: [] });
    return ref;
  };
  const saRequests = (from = 0): Array<{ verb: string; resource: string; code: number }> =>
    lab.requests
      .entries()
      .slice(from)
      .filter((r) => r.user === SA_USER);

  beforeAll(async () => {
    kcp = await startSimServer({ name: 'kcp', mode: 'kcp' });
    // The simulator authorizes ServiceAccount tokens by RBAC and lets others (the operator's kubectl) do anything.
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
    world = await startSyncWorld();
    await world.putCluster(WS, 'lab');
    kcpOnly = new SimConnector(kcp, {});
    credentials = new MemoryStatusCredentialStore();
    firstToken = await issueStatusCredential(credentials, syncerSubject(WS, 'lab'));
    const handler = makeSyncerApiHandler({
      syncState: world.syncState,
      kube: kcpOnly,
      health: new InMemoryHealthStore(),
      statusQueue: { name: 'status', send: async () => undefined },
      // No digest cache: a rotation is visible to the next request.
      authenticator: new StatusCredentialAuthenticator(credentials, 0),
    });
    vw = await serveVirtualWorkspace(async (event) => {
      const result = await handler(event);
      const token = (event.headers.authorization ?? '').replace(/^Bearer /, '');
      seen.push({ token: digest(token), status: typeof result === 'object' ? (result.statusCode ?? 200) : 200 });
      return result;
    });
    dir = mkdtempSync(join(tmpdir(), 'tmc-operator-'));
    admin = join(dir, 'admin.kubeconfig');
    writeFileSync(admin, kubeconfigFor('lab-admin', lab.serverUrl(), 'lab-admin'));

    // What `tmc syncer manifest lab` prints, applied by the operator with kubectl.
    const manifest = syncerManifest({
      syncTargetName: 'lab',
      syncTargetUid: target.metadata.uid ?? '',
      workspace: WS,
      vwKubeconfig: vwKubeconfig(vw.url, firstToken),
      image: 'tmc-syncer:test',
      namespace: NAMESPACE,
      healthPort: 8080,
      metricsPort: 9090,
    });
    await kubectlOk(admin, ['apply', '-f', '-'], manifest.map((doc) => stringify(doc)).join('---\n'));

    // In the pod: the ServiceAccount's token, and the Secret mounted as --kcp-kubeconfig.
    saToken = (await kubectlOk(admin, ['create', 'token', syncerObjectName('lab'), '-n', NAMESPACE])).trim();
    writeFileSync(join(dir, 'cluster.kubeconfig'), kubeconfigFor('lab-sa', lab.serverUrl(), saToken));
    const secret = JSON.parse(
      await kubectlOk(admin, ['get', 'secret', syncerObjectName('lab'), '-n', NAMESPACE, '-o', 'json']),
    ) as { data: { kubeconfig: string } };
    writeFileSync(join(dir, 'vw.kubeconfig'), Buffer.from(secret.data.kubeconfig, 'base64'));
    const deployment = lab.store().get(DEPLOYMENTS, NAMESPACE, syncerObjectName('lab'));
    const args = (deployment?.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec
      .containers[0].args;
    const flag = (name: string): string => (args.find((a) => a.startsWith(`--${name}=`)) ?? '').split('=')[1];
    options = {
      syncTargetName: flag('sync-target-name'),
      syncTargetUid: flag('sync-target-uid'),
      workspace: flag('workspace-cluster'),
      kcpKubeconfig: join(dir, 'vw.kubeconfig'),
      clusterKubeconfig: join(dir, 'cluster.kubeconfig'),
      resyncSeconds: 3600,
      heartbeatSeconds: 3600,
      qps: 100,
      burst: 100,
      kubeconfigPollMs: 50,
      log: memoryLog(),
      metrics: noMetrics,
    };
  });
  afterAll(async () => {
    for (const s of syncers) await s.stop();
    kcpOnly.close();
    await new Promise((resolve) => vw.server.close(resolve));
    await world.close();
    await Promise.all([kcp.stop(), lab.stop()]);
  });

  it('the cluster accepts every object of the manifest', () => {
    const kinds = [
      lab.store().get({ group: '', version: 'v1', resource: 'namespaces' }, undefined, NAMESPACE),
      lab.store().get({ group: '', version: 'v1', resource: 'serviceaccounts' }, NAMESPACE, syncerObjectName('lab')),
      lab
        .store()
        .get(
          { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' },
          undefined,
          'tmc-syncer-lab',
        ),
      lab
        .store()
        .get(
          { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings' },
          undefined,
          'tmc-syncer-lab',
        ),
      lab.store().get({ group: '', version: 'v1', resource: 'secrets' }, NAMESPACE, 'tmc-syncer-lab'),
      lab.store().get(DEPLOYMENTS, NAMESPACE, 'tmc-syncer-lab'),
    ].map((o) => o?.kind);
    expect(kinds).toEqual(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Secret', 'Deployment']);
  });

  it("the cluster enforces RBAC for the ServiceAccount's token: what the role does not grant is 403", async () => {
    // kubectl sends no token over plain http, so the ServiceAccount's requests are made directly.
    const as = (path: string): Promise<Response> =>
      fetch(`${lab.serverUrl()}${path}`, { headers: { authorization: `Bearer ${saToken}` } });
    const pods = await as('/api/v1/pods');
    expect(pods.status).toBe(403);
    expect(((await pods.json()) as { message: string }).message).toBe(
      `pods is forbidden: User "${SA_USER}" cannot list resource "pods" in API group "" at the cluster scope`,
    );
    expect((await as('/api/v1/secrets')).status).toBe(403);
    expect((await as(`/api/v1/namespaces/${NAMESPACE}`)).status).toBe(200);
    expect((await as('/apis/apps/v1/deployments?watch=true&timeoutSeconds=1')).status).toBe(200);
  });

  it("runs with exactly the ServiceAccount's permissions: applies, reports status and deletes, never refused", async () => {
    const from = lab.requests.entries().length;
    const ref = await place('default');
    const syncer = await Syncer.create(options);
    syncers.push(syncer);
    await syncer.run();
    const ns = downstreamNamespace(WS, 'default');
    expect(lab.store().get(CONFIGMAPS, ns, 'web-config')).toBeDefined();
    expect(lab.store().get(DEPLOYMENTS, ns, 'web')?.spec).toMatchObject({ replicas: 2 });
    expect(await world.syncState.get(ref, 'lab')).toMatchObject({ state: 'applied' });
    // Status is watched on the cluster (the role's `watch`): the Deployment's becomes ready and is reported up.
    await waitFor('a watch of deployments by the syncer', async () =>
      saRequests().some((r) => r.verb === 'watch' && r.resource === 'deployments'),
    );

    // Deleted in kcp, so placement drops lab: the syncer removes its copy (the role's `delete`).
    kcp.store(WS).delete(DEPLOYMENTS, 'default', 'web');
    await world.putDecision(ref, 2, []);
    expect(await syncer.reconcile(syncMessage(ref, 'lab', 2, { action: 'delete' }))).toEqual({ result: 'deleted' });
    expect(lab.store().get(DEPLOYMENTS, ns, 'web')).toBeUndefined();

    const requests = saRequests(from);
    expect(requests.filter((r) => r.code === 403)).toEqual([]);
    // Least: every verb the role grants on synced kinds was needed (an apply of a new object is create + patch).
    const used = new Set(requests.flatMap((r) => (r.verb === 'apply' ? ['create', 'patch'] : [r.verb])));
    expect([...SYNCER_VERBS].filter((v) => !used.has(v))).toEqual([]);
    expect(used.has('list') || used.has('update') || used.has('deletecollection')).toBe(false);
  });

  it('fails, and says so, when the role lacks a permission the syncer needs', async () => {
    const role = lab
      .store()
      .get(
        { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' },
        undefined,
        'tmc-syncer-lab',
      );
    const rules = (role?.rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>).map((r) =>
      r.apiGroups[0] === '' && r.resources.includes('configmaps')
        ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') }
        : r,
    );
    await kubectlOk(
      admin,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: role?.apiVersion,
        kind: 'ClusterRole',
        metadata: { name: 'tmc-syncer-lab' },
        rules,
      }),
    );
    const from = lab.requests.entries().length;
    const ref = await place('team-b');
    // A permission error is recorded as the copy's failure (retrying would not help until the role changes).
    expect(await syncers[0].reconcile(syncMessage(ref, 'lab', 1))).toEqual({ result: 'recorded' });
    const ns = downstreamNamespace(WS, 'team-b');
    expect(lab.store().get(CONFIGMAPS, ns, 'web-config')).toBeUndefined();
    // The Deployment waits for its ConfigMap: it is not applied without it.
    expect(lab.store().get(DEPLOYMENTS, ns, 'web')).toBeUndefined();
    expect(saRequests(from).filter((r) => r.code === 403)).toEqual([
      expect.objectContaining({ verb: 'apply', resource: 'configmaps' }),
    ]);
    expect(await world.syncState.get(ref, 'lab')).toMatchObject({
      state: 'failed',
      lastError: { category: 'resource-permission', statusCode: 403 },
    });
    expect((await world.syncState.get(ref, 'lab'))?.lastError?.message).toMatch(/cannot create resource "configmaps"/);
    await kubectlOk(
      admin,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: role?.apiVersion,
        kind: 'ClusterRole',
        metadata: { name: 'tmc-syncer-lab' },
        rules: role?.rules,
      }),
    );
  });

  it('waits for a dependency that is not placed yet instead of failing the workload', async () => {
    // Placement has decided the Deployment but not yet its ConfigMap (their placement messages race).
    const store = kcp.store(WS);
    store.create(
      { group: '', version: 'v1', resource: 'namespaces' },
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'team-c' },
      },
    );
    const config = store.create(CONFIGMAPS, build.configMap('web-config', { namespace: 'team-c' }));
    const dep = store.create(
      DEPLOYMENTS,
      build.deployment('web', { namespace: 'team-c', envFrom: [{ configMapRef: { name: 'web-config' } }] }),
    );
    const ref = refOf(WS, dep, 'apps', 'deployments');
    await world.putDecision(ref, 1, [{ name: 'lab', replicas: 1 }]);
    const handler = makeSyncApplyHandler(world.applyDeps(pullConnector()));
    expect(await handler(sqsEvent([syncMessage(ref, 'lab', 1, { object: dep })]))).toEqual({ batchItemFailures: [] });
    // The role is whole again: only the virtual workspace's view decides here.
    const syncer = await Syncer.create(options);
    syncers.push(syncer);
    expect(await syncer.reconcile(syncMessage(ref, 'lab', 1))).toMatchObject({ result: 'deferred' });
    // Recorded as a retryable failure (the syncer tries again), not a permission error that stops it.
    expect((await world.syncState.get(ref, 'lab'))?.lastError).toMatchObject({ category: 'sync-failure' });
    await world.putDecision(refOf(WS, config, '', 'configmaps'), 1, [{ name: 'lab' }]);
    expect(await syncer.reconcile(syncMessage(ref, 'lab', 1))).toEqual({ result: 'applied' });
    const ns = downstreamNamespace(WS, 'team-c');
    expect(lab.store().get(CONFIGMAPS, ns, 'web-config')).toBeDefined();
    expect(lab.store().get(DEPLOYMENTS, ns, 'web')).toBeDefined();
    await syncer.stop();
  });

  it('picks up a rotated --kcp-kubeconfig without a restart; the old credential works through its grace period', async () => {
    const syncer = syncers[0];
    const rotated = await issueStatusCredential(credentials, syncerSubject(WS, 'lab'));
    writeFileSync(options.kcpKubeconfig, vwKubeconfig(vw.url, rotated));
    await waitFor('a request with the rotated credential', async () => {
      await syncer.heartbeat();
      return seen.some((s) => s.token === digest(rotated) && s.status === 200);
    });
    // The previous credential is still accepted (newest and previous are), so nothing in flight was cut off.
    const old = await fetch(`${vw.url}/syncers/${WS}/lab`, { headers: { authorization: `Bearer ${firstToken}` } });
    expect(old.status).toBe(200);
    await syncer.stop();
  });

  it('re-reads the kubeconfig on a 401 when its file watch has not fired yet', async () => {
    // A syncer that never runs its file watch: only the 401 makes it read the file again.
    const syncer = await Syncer.create({ ...options, kubeconfigPollMs: 3_600_000 });
    const stale = syncer.client.endpoint.token;
    // Two rotations: the credential the syncer holds is neither the newest nor the previous one any more.
    await issueStatusCredential(credentials, syncerSubject(WS, 'lab'));
    const newest = await issueStatusCredential(credentials, syncerSubject(WS, 'lab'));
    writeFileSync(options.kcpKubeconfig, vwKubeconfig(vw.url, newest));
    const from = seen.length;
    expect(await syncer.heartbeat()).toBe(true);
    await syncer.stop();
    expect(seen.slice(from)).toEqual([
      { token: digest(stale), status: 401 },
      { token: digest(newest), status: 200 },
    ]);
    expect(readFileSync(options.kcpKubeconfig, 'utf8')).toContain(newest);
  });
});
