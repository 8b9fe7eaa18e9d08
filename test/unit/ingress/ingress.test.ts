import { AdmissionReviewSchema } from '../../../lib/api/admission-review';
import { SYNC_FINALIZER } from '../../../lib/api/labels';
import type { KubeObjectShape, PlacementMessage, StatusMessage } from '../../../lib/api/messages';
import { WatchEventBatchSchema } from '../../../lib/api/watch-events';
import { objectKey } from '../../../lib/api/object-ref';
import { finalizerPatch } from '../../../lib/ingress/finalizer-patch';
import { placementFingerprint } from '../../../lib/ingress/fingerprint';
import { createIngress } from '../../../lib/ingress/ingress';
import type { AdmissionOutbox } from '../../../lib/ports/admission-outbox';
import { NetworkError } from '../../../lib/errors/tmc-error';
import { callUnderDeadline, currentDeadline, withInvocationDeadline } from '../../../lib/errors/deadline';
import type { IngressRequest } from '../../../lib/ingress/http';
import { pluralOf } from '../../../lib/ingress/refs';
import { waitFor } from '../../support/wait';
import { selectWorkload } from '../../../lib/ingress/selection';
import {
  HangingQueue,
  makeDeps,
  MemoryPlacedVersions,
  MemorySeenStore,
  RecordingMetrics,
  RecordingQueue,
  request,
  sample,
  OLD_TOKEN,
} from './fakes';

function decodePatch(body: string): unknown {
  const review = JSON.parse(body) as { response: { patch?: string } };
  return review.response.patch ? JSON.parse(Buffer.from(review.response.patch, 'base64').toString('utf8')) : undefined;
}

/** A valid Placement's admission (tmc's own kind: deduplicated by a seen record). */
function validPlacement(): unknown {
  const review = structuredClone(sample('admission-invalid-placement.json')) as {
    request: { object: { spec: Record<string, unknown> } };
  };
  review.request.object.spec = { numberOfClusters: 2 };
  return review;
}

function setup(overrides: Parameters<typeof makeDeps>[0] = {}) {
  const placement = new RecordingQueue<PlacementMessage>('placement');
  const status = new RecordingQueue<StatusMessage>('status');
  const metrics = new RecordingMetrics();
  const deps = makeDeps({ placementQueue: placement, statusQueue: status, metrics, ...overrides });
  return { ingress: createIngress(deps), placement, status, metrics };
}

describe('schemas accept the sample events', () => {
  it.each([
    'admission-create-deployment.json',
    'admission-update-deployment.json',
    'admission-delete-deployment.json',
    'admission-invalid-placement.json',
    'status-update-deployment.json',
  ])('%s is an AdmissionReview', (name) => {
    expect(AdmissionReviewSchema.safeParse(sample(name)).success).toBe(true);
  });
  it('events-batch.json is a batch', () => {
    expect(WatchEventBatchSchema.safeParse(sample('events-batch.json')).success).toBe(true);
  });
  it.each([
    [
      'wrong apiVersion',
      { ...(sample('admission-create-deployment.json') as object), apiVersion: 'admission.k8s.io/v1beta1' },
    ],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }],
    [
      'bad operation',
      {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'u',
          kind: { group: '', version: 'v1', kind: 'Pod' },
          resource: { group: '', version: 'v1', resource: 'pods' },
          operation: 'PATCH',
        },
      },
    ],
  ])('rejects %s', (_why, body) => {
    expect(AdmissionReviewSchema.safeParse(body).success).toBe(false);
  });
  it.each([
    ['empty batch', { events: [] }],
    [
      'unknown type',
      {
        events: [
          {
            type: 'BOOKMARK',
            workspace: 'root',
            object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
          },
        ],
      },
    ],
    [
      'no workspace',
      { events: [{ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } } }] },
    ],
    [
      'no name',
      { events: [{ type: 'ADDED', workspace: 'root', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} } }] },
    ],
  ])('rejects an events body with %s', (_why, body) => {
    expect(WatchEventBatchSchema.safeParse(body).success).toBe(false);
  });
});

describe('finalizerPatch', () => {
  const obj = (finalizers?: string[]): KubeObjectShape => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'a', ...(finalizers ? { finalizers } : {}) },
  });
  it.each([
    ['absent', obj(), [{ op: 'add', path: '/metadata/finalizers', value: [SYNC_FINALIZER] }]],
    ['empty', obj([]), [{ op: 'add', path: '/metadata/finalizers/-', value: SYNC_FINALIZER }]],
    [
      'others present',
      obj(['example.com/keep']),
      [{ op: 'add', path: '/metadata/finalizers/-', value: SYNC_FINALIZER }],
    ],
    ['already there', obj([SYNC_FINALIZER]), []],
  ])('finalizers %s', (_why, object, expected) => {
    expect(finalizerPatch(object)).toEqual(expected);
  });
});

describe('selectWorkload', () => {
  const o = (metadata: Record<string, unknown> = {}): KubeObjectShape => ({
    apiVersion: 'v1',
    kind: 'X',
    metadata: { name: 'a', ...metadata },
  });
  it.each([
    [{ group: 'apps', resource: 'deployments' }, 'default', o(), true],
    [{ group: '', resource: 'configmaps' }, 'default', o(), true],
    [{ group: '', resource: 'pods' }, 'default', o(), false],
    [{ group: '', resource: 'events' }, 'default', o(), false],
    [{ group: 'events.k8s.io', resource: 'events' }, 'default', o(), false],
    [{ group: 'coordination.k8s.io', resource: 'leases' }, 'default', o(), false],
    [{ group: '', resource: 'endpoints' }, 'default', o(), false],
    [{ group: 'discovery.k8s.io', resource: 'endpointslices' }, 'default', o(), false],
    [{ group: 'apps', resource: 'controllerrevisions' }, 'default', o(), false],
    [{ group: 'storage.k8s.io', resource: 'csistoragecapacities' }, 'default', o(), false],
    [{ group: '', resource: 'bindings' }, 'default', o(), false],
    [{ group: 'storage.k8s.io', resource: 'csinodes' }, undefined, o(), false],
    [{ group: 'storage.k8s.io', resource: 'volumeattachments' }, undefined, o(), false],
    [{ group: '', resource: 'podtemplates' }, 'default', o(), true],
    [
      { group: 'apps', resource: 'replicasets' },
      'default',
      o({ ownerReferences: [{ kind: 'Deployment', name: 'web' }] }),
      false,
    ],
    [{ group: 'apps', resource: 'replicasets' }, 'default', o(), true],
    [{ group: 'scheduling.kcp.io', resource: 'placements' }, 'default', o(), false],
    [{ group: 'apps', resource: 'deployments' }, 'kube-system', o(), false],
    [{ group: 'apps', resource: 'deployments' }, 'tmc-system', o(), false],
    [{ group: 'apps', resource: 'deployments' }, 'default', o({ labels: { 'tmc.kcp.io/ignore': '' } }), false],
    [{ group: 'rbac.authorization.k8s.io', resource: 'clusterroles' }, undefined, o(), true], // follows the workspace's work
    [
      { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
      undefined,
      o({ name: 'widgets.example.com' }),
      true,
    ],
    [
      { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
      undefined,
      o({ name: 'synctargets.workload.kcp.io' }),
      false,
    ],
    [{ group: '', resource: 'persistentvolumes' }, undefined, o(), true],
    [{ group: 'storage.k8s.io', resource: 'storageclasses' }, undefined, o(), true],
    // Placed where the SyncTarget's allowedRiskyKinds admits them; reached by the recovery sweep (no admission).
    [{ group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations' }, undefined, o(), true],
    [{ group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations' }, undefined, o(), true],
    [{ group: 'apiregistration.k8s.io', resource: 'apiservices' }, undefined, o(), true],
    // tmc's own webhooks in the workspace are never a workload.
    [
      { group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations' },
      undefined,
      o({ name: 'tmc-workloads', labels: { 'tmc.kcp.io/managed-by': 'tmc' } }),
      false,
    ],
    [{ group: 'admissionregistration.k8s.io', resource: 'validatingadmissionpolicies' }, undefined, o(), false],
    [{ group: 'tenancy.kcp.io', resource: 'workspaces' }, undefined, o(), false],
  ])('%j in %s → %s', (gr, namespace, object, selected) => {
    expect(selectWorkload(gr, namespace, object).selected).toBe(selected);
  });
});

describe('placementFingerprint', () => {
  const base: KubeObjectShape = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'u1',
      generation: 1,
      resourceVersion: '10',
      labels: { app: 'web' },
    },
    spec: { replicas: 1 },
  };
  const fp = placementFingerprint(base, false);
  const variant = (change: (o: KubeObjectShape & Record<string, unknown>) => void): string => {
    const copy = structuredClone(base) as KubeObjectShape & Record<string, unknown>;
    change(copy);
    return placementFingerprint(copy, false);
  };
  it.each([
    [
      'tmc state label added',
      (o: KubeObjectShape) => ((o.metadata.labels as Record<string, string>)['state.workload.kcp.io/abc'] = 'Sync'),
    ],
    [
      'tmc per-cluster status annotation',
      (o: KubeObjectShape) => (o.metadata.annotations = { 'experimental.status.workload.kcp.io/abc': '{}' }),
    ],
    ['tmc finalizer added', (o: KubeObjectShape) => (o.metadata.finalizers = [SYNC_FINALIZER])],
    ['status changed', (o: KubeObjectShape & Record<string, unknown>) => (o.status = { readyReplicas: 1 })],
    ['resourceVersion changed', (o: KubeObjectShape) => (o.metadata.resourceVersion = '11')],
    [
      'kcp.io/cluster added by kcp on storage',
      (o: KubeObjectShape) => (o.metadata.annotations = { 'kcp.io/cluster': 'root:default' }),
    ],
    [
      'admission CREATE: no uid, generation or resourceVersion yet',
      (o: KubeObjectShape) => {
        delete o.metadata.uid;
        delete o.metadata.generation;
        delete o.metadata.resourceVersion;
      },
    ],
  ])('same for: %s', (_why, change) => {
    expect(variant(change)).toBe(fp);
  });
  it.each([
    ['spec changed', (o: KubeObjectShape & Record<string, unknown>) => (o.spec = { replicas: 2 })],
    ['user label changed', (o: KubeObjectShape) => ((o.metadata.labels as Record<string, string>).tier = 'front')],
    ['user annotation', (o: KubeObjectShape) => (o.metadata.annotations = { note: 'x' })],
    ['deletion started', (o: KubeObjectShape) => (o.metadata.deletionTimestamp = '2025-01-01T00:00:00Z')],
    ['other finalizer', (o: KubeObjectShape) => (o.metadata.finalizers = ['example.com/x'])],
    ['data field', (o: KubeObjectShape & Record<string, unknown>) => (o.data = { a: '1' })],
  ])('different for: %s', (_why, change) => {
    expect(variant(change)).not.toBe(fp);
  });
  it('a delete differs from the last version', () => {
    expect(placementFingerprint(base, true)).not.toBe(fp);
  });
});

describe('pluralOf', () => {
  it.each([
    ['Deployment', 'deployments'],
    ['Ingress', 'ingresses'],
    ['NetworkPolicy', 'networkpolicies'],
    ['Gateway', 'gateways'],
    ['ConfigMap', 'configmaps'],
  ])('%s → %s', (kind, plural) => expect(pluralOf(kind)).toBe(plural));
});

describe('ingress: admission', () => {
  it('adds the finalizer on CREATE and enqueues one placement message', async () => {
    const { ingress, placement } = setup();
    const res = await ingress.handle(request('admission', sample('admission-create-deployment.json')));
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body);
    expect(body.response).toMatchObject({
      uid: '7f0c6a3e-0001-4c1a-9a51-000000000001',
      allowed: true,
      patchType: 'JSONPatch',
    });
    expect(decodePatch(res.body)).toEqual([{ op: 'add', path: '/metadata/finalizers', value: [SYNC_FINALIZER] }]);
    expect(placement.sent).toHaveLength(1);
    expect(placement.sent[0]).toMatchObject({
      type: 'placement',
      reason: 'admission',
      ref: {
        workspace: 'root:default',
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        kind: 'Deployment',
        namespace: 'default',
        name: 'web',
      },
      resourceVersion: '',
    });
    expect(placement.sent[0].object?.metadata.finalizers).toEqual([SYNC_FINALIZER]);
  });

  it("adds the finalizer to a cluster-scoped object on CREATE (it follows the workspace's work), not to a Namespace", async () => {
    const { ingress } = setup();
    const review = structuredClone(sample('admission-create-deployment.json')) as { request: Record<string, any> };
    review.request.kind = { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' };
    review.request.resource = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' };
    delete review.request.namespace;
    review.request.name = 'reader';
    review.request.object = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'reader' },
      rules: [],
    };
    expect(decodePatch((await ingress.handle(request('admission', review))).body)).toEqual([
      { op: 'add', path: '/metadata/finalizers', value: [SYNC_FINALIZER] },
    ]);

    review.request.kind = { group: '', version: 'v1', kind: 'Namespace' };
    review.request.resource = { group: '', version: 'v1', resource: 'namespaces' };
    review.request.object = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'reader' } };
    expect(decodePatch((await ingress.handle(request('admission', review))).body)).toBeUndefined();
  });

  it('enqueues once for the same version arriving twice (once placed) and again for a new one', async () => {
    const placed = new MemoryPlacedVersions();
    const { ingress, placement } = setup({ placed });
    await ingress.handle(request('admission', sample('admission-create-deployment.json')));
    // Placement decides from the admission's carried object and records its fingerprint: the ADDED event of the same
    // write (now with uid, generation, resourceVersion) has the same one.
    const [admitted] = placement.sent;
    placed.versions.set(objectKey(admitted.ref), { fingerprint: placementFingerprint(admitted.object!, false) });
    await ingress.handle(
      request('events', { events: [(sample('events-batch.json') as { events: unknown[] }).events[0]] }),
    );
    expect(placement.sent).toHaveLength(1);
    await ingress.handle(request('admission', sample('admission-update-deployment.json')));
    expect(placement.sent).toHaveLength(2);
    await ingress.handle(request('admission', sample('admission-delete-deployment.json')));
    expect(placement.sent.map((m) => m.reason)).toEqual(['admission', 'admission', 'delete']);
    expect(placement.sent[2].object).toBeUndefined();
  });

  it.each([
    [
      'a tmc state label',
      (o: Record<string, any>) => (o.metadata.labels = { ...o.metadata.labels, 'state.workload.kcp.io/abc': 'Sync' }),
    ],
    [
      'a per-cluster status annotation',
      (o: Record<string, any>) =>
        (o.metadata.annotations = { ...o.metadata.annotations, 'experimental.status.workload.kcp.io/abc': '{}' }),
    ],
    ['a new resourceVersion only', (o: Record<string, any>) => (o.metadata.resourceVersion = '999')],
  ])('answers an UPDATE that changes only %s with no I/O', async (_what, change) => {
    const seen = new MemorySeenStore();
    const { ingress, placement } = setup({ seen });
    const review = structuredClone(sample('admission-update-deployment.json')) as {
      request: { object: Record<string, any>; oldObject: Record<string, any> };
    };
    review.request.object = structuredClone(review.request.oldObject);
    change(review.request.object);
    const res = await ingress.handle(request('admission', review));
    expect(JSON.parse(res.body).response.allowed).toBe(true);
    expect(placement.sent).toHaveLength(0);
    expect(seen.records.size).toBe(0);
  });

  it('UPDATE carries no patch', async () => {
    const { ingress } = setup();
    const res = await ingress.handle(request('admission', sample('admission-update-deployment.json')));
    expect(JSON.parse(res.body).response.patch).toBeUndefined();
  });

  it('denies an invalid Placement naming the field, and enqueues nothing', async () => {
    const { ingress, placement } = setup();
    const res = await ingress.handle(request('admission', sample('admission-invalid-placement.json')));
    const body = JSON.parse(res.body);
    expect(body.response.allowed).toBe(false);
    expect(body.response.status.message).toContain('spec.numberOfClusters');
    expect(placement.sent).toHaveLength(0);
  });

  it('allows a valid Placement and enqueues it for placement (reason admission: placement waits until kcp stores it)', async () => {
    const { ingress, placement } = setup();
    const review = structuredClone(sample('admission-invalid-placement.json')) as {
      request: { object: { spec: Record<string, unknown> } };
    };
    review.request.object.spec = { numberOfClusters: 2 };
    const res = await ingress.handle(request('admission', review));
    expect(JSON.parse(res.body).response.allowed).toBe(true);
    expect(placement.sent.map((m) => [m.reason, m.ref.resource, m.ref.name])).toEqual([
      ['admission', 'placements', 'spread'],
    ]);
  });

  it('never carries a Secret', async () => {
    const { ingress, placement } = setup();
    const review = structuredClone(sample('admission-create-deployment.json')) as { request: Record<string, unknown> };
    review.request.kind = { group: '', version: 'v1', kind: 'Secret' };
    review.request.resource = { group: '', version: 'v1', resource: 'secrets' };
    review.request.object = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'web', namespace: 'default' },
      data: { password: 'c2VjcmV0' },
    };
    await ingress.handle(request('admission', review));
    expect(placement.sent).toHaveLength(1);
    expect(placement.sent[0].object).toBeUndefined();
    expect(JSON.stringify(placement.sent)).not.toContain('c2VjcmV0');
  });

  it('fails open when the queue hangs: allowed with the patch, within the deadline, counted', async () => {
    const metrics = new RecordingMetrics();
    const { ingress } = setup({ placementQueue: new HangingQueue('placement'), enqueueDeadlineMs: 50, metrics });
    const started = Date.now();
    const res = await ingress.handle(request('admission', sample('admission-create-deployment.json')));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(JSON.parse(res.body).response.allowed).toBe(true);
    expect(decodePatch(res.body)).toHaveLength(1);
    expect(metrics.total('tmc_admission_enqueue_timeouts_total')).toBe(1);
  });

  it('fails open when the queue throws, and forgets the seen record so a retry is not deduplicated', async () => {
    const seen = new MemorySeenStore();
    const failing = { name: 'placement', send: async (): Promise<void> => Promise.reject(new Error('SQS down')) };
    const { ingress } = setup({ placementQueue: failing, seen });
    const res = await ingress.handle(request('admission', validPlacement()));
    expect(JSON.parse(res.body).response.allowed).toBe(true);
    expect(seen.writes).toBe(1); // a Placement is deduplicated by its seen record…
    expect(seen.records.size).toBe(0); // …which the failed send dropped again
  });

  it('writes no seen record for a workload: its admission is sent, and the decision placement writes records it', async () => {
    const seen = new MemorySeenStore();
    const placed = new MemoryPlacedVersions();
    const { ingress, placement } = setup({ seen, placed });
    await ingress.handle(request('admission', sample('admission-create-deployment.json')));
    await ingress.handle(request('admission', sample('admission-update-deployment.json')));
    await ingress.handle(request('admission', sample('admission-delete-deployment.json')));
    expect(placement.sent.map((m) => m.reason)).toEqual(['admission', 'admission', 'delete']);
    expect(seen.writes).toBe(0);
    expect(placed.reads).toBe(0); // nor a read: an admission is the first delivery of its version
  });

  it("deduplicates tmc's own kinds by their seen record (they have no decision)", async () => {
    const seen = new MemorySeenStore();
    const { ingress, placement } = setup({ seen });
    await ingress.handle(request('admission', validPlacement()));
    await ingress.handle(request('admission', validPlacement()));
    expect(seen.writes).toBe(2);
    expect(placement.sent).toHaveLength(1);
  });

  describe('a send still going when the webhook answers (fail open) goes on after the answer', () => {
    const create = (): IngressRequest => request('admission', sample('admission-create-deployment.json'));
    /** A placement queue whose first `failures` sends fail (after `slowMs`), then lands messages on `landed`. */
    function flakyQueue(failures: number, slowMs: number) {
      const landed = new RecordingQueue<PlacementMessage>('placement');
      let attempts = 0;
      const queue = {
        name: 'placement',
        landed,
        attempts: () => attempts,
        send: async (messages: PlacementMessage[]): Promise<void> => {
          attempts += 1;
          if (attempts <= failures) {
            await new Promise((resolve) => setTimeout(resolve, slowMs));
            throw new NetworkError('Sending 1 message(s) to queue placement failed');
          }
          await landed.send(messages);
        },
      };
      return queue;
    }

    it('retries a send that failed after the answer until it lands', async () => {
      // SQS slow under load: the first attempt fails only after the deadline; the second lands.
      const queue = flakyQueue(1, 100);
      const seen = new MemorySeenStore();
      const { ingress, metrics } = setup({
        placementQueue: queue,
        seen,
        enqueueDeadlineMs: 20,
        enqueueRetryDelaysMs: [10, 10],
      });
      const res = await ingress.handle(create());
      expect(JSON.parse(res.body).response.allowed).toBe(true);
      expect(queue.landed.sent).toEqual([]); // answered before the send ended
      expect(metrics.total('tmc_admission_enqueue_timeouts_total')).toBe(1);
      await waitFor('the retried enqueue', async () => queue.landed.sent.length === 1);
      expect(queue.attempts()).toBe(2);
      expect(queue.landed.sent[0]).toMatchObject({ type: 'placement', reason: 'admission' });
      await waitFor('the late enqueue counted', async () => metrics.total('tmc_admission_enqueue_late_total') === 1);
      expect(metrics.counts.get('tmc_admission_enqueue_late_total{"outcome":"enqueued"}')).toBe(1);
      // A workload's version is recorded by its decision, not by ingress.
      expect(seen.writes).toBe(0);
    });

    it('holds the message in the outbox before answering, and drops it once the late send lands (kept if it never does)', async () => {
      const held = new Map<string, PlacementMessage>();
      const outbox: AdmissionOutbox = {
        hold: async (m) => void held.set(m.trace.traceId, m),
        release: async (m) => void held.delete(m.trace.traceId),
        due: async () => [...held.values()],
      };
      const landing = flakyQueue(1, 100);
      const { ingress } = setup({ placementQueue: landing, outbox, enqueueDeadlineMs: 20, enqueueRetryDelaysMs: [10] });
      await ingress.handle(create());
      expect(held.size).toBe(1); // recorded before the answer
      await waitFor('the late send landed and its record dropped', async () => held.size === 0);
      expect(landing.landed.sent).toHaveLength(1);

      const never = flakyQueue(10, 0);
      const failing = setup({ placementQueue: never, outbox, enqueueRetryDelaysMs: [5] });
      await failing.ingress.handle(create());
      await waitFor(
        'the enqueue given up',
        async () => failing.metrics.total('tmc_admission_enqueue_late_total') === 1,
      );
      expect(held.size).toBe(1); // left for the recovery sweep
    });

    it('answers at once when the first attempt fails, then retries', async () => {
      const queue = flakyQueue(1, 0);
      const { ingress } = setup({ placementQueue: queue, enqueueRetryDelaysMs: [50] });
      const res = await ingress.handle(create());
      expect(JSON.parse(res.body).response.allowed).toBe(true);
      expect(queue.attempts()).toBe(1);
      await waitFor('the retried enqueue', async () => queue.landed.sent.length === 1);
      expect(queue.attempts()).toBe(2);
    });

    it('lands the send and drops its record when the handler answered past its invocation deadline', async () => {
      // A 300 × 3 bench at load 14–34: handlers answered after their deadline (a starved event loop), so every call
      // carried on after the answer (the retries, the outbox record's write and delete) inherited a deadline already
      // passed and was cut off at once; 96 sends that did land were re-sent by the sweep as held admissions.
      // Each call here is cut off as the AWS clients' are (lib/runtime/aws-request-handler.ts).
      const underDeadline = <T>(what: string, call: () => Promise<T>): Promise<T> =>
        callUnderDeadline(currentDeadline(), what, (signal) =>
          signal?.aborted ? Promise.reject(new Error('aborted')) : call(),
        );
      const landed = new RecordingQueue<PlacementMessage>('placement');
      let attempts = 0;
      const queue = {
        name: 'placement',
        send: async (messages: PlacementMessage[]): Promise<void> => {
          attempts += 1;
          const first = attempts === 1;
          try {
            await underDeadline('An SQS request', async () => {
              // The first attempt is slow and fails after the answer; a later one lands.
              if (first) await new Promise((resolve) => setTimeout(resolve, 500));
              if (first) throw new Error('socket hang up');
              await landed.send(messages);
            });
          } catch (err) {
            throw new NetworkError('Sending 1 message(s) to queue placement failed', { cause: err });
          }
        },
      };
      const held = new Map<string, PlacementMessage>();
      const outbox: AdmissionOutbox = {
        hold: (m) => underDeadline('A DynamoDB request', async () => void held.set(m.trace.traceId, m)),
        release: (m) => underDeadline('A DynamoDB request', async () => void held.delete(m.trace.traceId)),
        due: async () => [...held.values()],
      };
      const { ingress } = setup({ placementQueue: queue, outbox, enqueueDeadlineMs: 400, enqueueRetryDelaysMs: [10] });
      // 600 ms left: calls in flight are cut off at 100 ms, none runs after 350 ms; the answer comes at about 400 ms.
      const res = await withInvocationDeadline({ getRemainingTimeInMillis: () => 600 }, () => ingress.handle(create()));
      expect(JSON.parse(res.body).response.allowed).toBe(true);
      await waitFor('the retried send landed', async () => landed.sent.length === 1);
      expect(attempts).toBe(2);
      await waitFor('its outbox record dropped', async () => held.size === 0);
    });

    it('gives up after its retries and says that the recovery sweep will catch up', async () => {
      const queue = flakyQueue(10, 0);
      const { ingress, metrics } = setup({ placementQueue: queue, enqueueRetryDelaysMs: [5, 5] });
      await ingress.handle(create());
      await waitFor('the enqueue given up', async () => metrics.total('tmc_admission_enqueue_late_total') === 1);
      expect(metrics.counts.get('tmc_admission_enqueue_late_total{"outcome":"failed"}')).toBe(1);
      expect(queue.attempts()).toBe(3);
      expect(queue.landed.sent).toEqual([]);
    });
  });

  it('takes the workspace from the kcp.io/cluster annotation when the URL has none', async () => {
    const { ingress, placement } = setup();
    await ingress.handle(request('admission', sample('admission-create-deployment.json'), { query: {} }));
    expect(placement.sent[0].ref.workspace).toBe('root:default');
  });

  it('a dry run gets the patch and enqueues nothing', async () => {
    const { ingress, placement } = setup();
    const review = structuredClone(sample('admission-create-deployment.json')) as { request: Record<string, unknown> };
    review.request.dryRun = true;
    const res = await ingress.handle(request('admission', review));
    expect(decodePatch(res.body)).toHaveLength(1);
    expect(placement.sent).toHaveLength(0);
  });
});

describe('ingress: rejections enqueue nothing', () => {
  const create = (): unknown => sample('admission-create-deployment.json');
  it.each([
    ['no token', request('admission', create(), { headers: {} }), 401],
    ['wrong token', request('admission', create(), { headers: { authorization: 'Bearer nope' } }), 401],
    [
      'token in the query only',
      request('admission', create(), {
        headers: {},
        query: { workspace: 'root:default', token: 'token-current-0123456789' },
      }),
      401,
    ],
    ['not JSON', request('admission', '{not json'), 400],
    ['empty body', request('admission', ''), 400],
    ['not an AdmissionReview', request('admission', { hello: 'world' }), 400],
    ['malformed events', request('events', { events: [{ type: 'ADDED' }] }), 400],
    ['status without cluster', request('status', sample('status-update-deployment.json')), 400],
  ])('%s is rejected with the expected status', async (_why, req, code) => {
    const { ingress, placement, status } = setup();
    const res = await ingress.handle(req);
    expect(res.statusCode).toBe(code);
    expect(JSON.parse(res.body).message).toBeTruthy();
    expect(placement.sent).toHaveLength(0);
    expect(status.sent).toHaveLength(0);
  });

  it('accepts the previous token during a rotation', async () => {
    const { ingress, placement } = setup();
    const res = await ingress.handle(
      request('admission', sample('admission-create-deployment.json'), {
        headers: { authorization: `Bearer ${OLD_TOKEN}` },
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(placement.sent).toHaveLength(1);
  });

  it('answers 413 over the size limit', async () => {
    const { ingress, placement } = setup({ maxBodyBytes: 1024 });
    const review = structuredClone(sample('admission-create-deployment.json')) as {
      request: { object: { metadata: { annotations: Record<string, string> } } };
    };
    review.request.object.metadata.annotations.big = 'x'.repeat(2048);
    const res = await ingress.handle(request('admission', review));
    expect(res.statusCode).toBe(413);
    expect(placement.sent).toHaveLength(0);
  });

  it('checks the decoded size of a base64 body', async () => {
    const { ingress } = setup({ maxBodyBytes: 1024 });
    const body = Buffer.from(
      JSON.stringify({
        events: [
          {
            type: 'ADDED',
            workspace: 'w',
            object: {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: 'a', namespace: 'd' },
              data: { x: 'y'.repeat(800) },
            },
          },
        ],
      }),
    ).toString('base64');
    const res = await ingress.handle(request('events', body, { isBase64Encoded: true }));
    expect(res.statusCode).toBe(202);
  });
});

describe('ingress: events', () => {
  it('enqueues workloads, ignores pods, and derives plurals', async () => {
    const { ingress, placement } = setup();
    const res = await ingress.handle(request('events', sample('events-batch.json')));
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(res.body)).toEqual({ received: 3, enqueued: 2, duplicates: 0, ignored: 1 });
    expect(placement.sent.map((m) => `${m.reason} ${m.ref.resource} ${m.ref.name}`)).toEqual([
      'event deployments web',
      'event configmaps settings',
    ]);
  });

  it('sends a batch of events in one send (one SendMessageBatch per ten), duplicates left out', async () => {
    const sends: PlacementMessage[][] = [];
    const counting = {
      name: 'placement',
      send: async (messages: PlacementMessage[]): Promise<void> => void sends.push(messages),
    };
    const seen = new MemorySeenStore();
    const placed = new MemoryPlacedVersions();
    const { ingress, metrics } = setup({ placementQueue: counting, seen, placed });
    const batch = sample('events-batch.json') as { events: Array<{ object: { metadata: { name: string } } }> };
    const [workload] = batch.events;
    const twelve = {
      events: Array.from({ length: 12 }, (_, i) => ({
        ...workload,
        object: { ...workload.object, metadata: { ...workload.object.metadata, name: `web-${i}` } },
      })),
    };
    expect(JSON.parse((await ingress.handle(request('events', twelve))).body)).toEqual({
      received: 12,
      enqueued: 12,
      duplicates: 0,
      ignored: 0,
    });
    expect(sends.map((s) => s.length)).toEqual([12]); // the queue splits it into SendMessageBatch calls of ten
    expect(metrics.total('tmc_messages_enqueued_total')).toBe(12);
    expect(placed.reads).toBe(1); // one read for the batch
    // Placement decides on those versions; the same versions again: nothing is sent, nothing is written.
    for (const e of twelve.events)
      placed.versions.set(`root:default|apps|deployments|default|${e.object.metadata.name}`, {
        fingerprint: placementFingerprint(e.object as KubeObjectShape, false),
      });
    expect(JSON.parse((await ingress.handle(request('events', twelve))).body)).toEqual({
      received: 12,
      enqueued: 0,
      duplicates: 12,
      ignored: 0,
    });
    expect(sends).toHaveLength(1);
    expect(seen.writes).toBe(0);
  });

  it.each([
    ['another version of the object', { fingerprint: 'older' }, 1],
    ['the same version of an object deleted and created again', { uid: 'uid-of-the-first' }, 1],
    ['the version the decision was made from', {}, 0],
  ])('enqueues a watch event of %s only if placement has not decided on it', async (_what, differ, expected) => {
    const placed = new MemoryPlacedVersions();
    const { ingress, placement } = setup({ placed });
    const batch = sample('events-batch.json') as { events: Array<{ workspace: string; object: KubeObjectShape }> };
    const [workload] = batch.events;
    const object = { ...workload.object, metadata: { ...workload.object.metadata, uid: 'uid-now' } };
    placed.versions.set(`${workload.workspace}|apps|deployments|default|web`, {
      fingerprint: placementFingerprint(object, false),
      uid: 'uid-now',
      ...differ,
    });
    const res = await ingress.handle(request('events', { events: [{ ...workload, object }] }));
    expect(JSON.parse(res.body)).toMatchObject({ enqueued: expected, duplicates: 1 - expected });
    expect(placement.sent).toHaveLength(expected);
  });

  it("drops the seen records of a failed send, so the relay's retry enqueues every event again", async () => {
    let fail = true;
    const sent: PlacementMessage[] = [];
    const flaky = {
      name: 'placement',
      send: async (messages: PlacementMessage[]): Promise<void> =>
        fail ? Promise.reject(new Error('down')) : void sent.push(...messages),
    };
    const { ingress } = setup({ placementQueue: flaky });
    expect((await ingress.handle(request('events', sample('events-batch.json')))).statusCode).toBe(503);
    fail = false;
    expect(JSON.parse((await ingress.handle(request('events', sample('events-batch.json')))).body)).toEqual({
      received: 3,
      enqueued: 2,
      duplicates: 0,
      ignored: 1,
    });
    expect(sent).toHaveLength(2);
  });

  it('answers 503 when the queue fails so the relay retries', async () => {
    const failing = { name: 'placement', send: async (): Promise<void> => Promise.reject(new Error('down')) };
    const { ingress } = setup({ placementQueue: failing });
    const res = await ingress.handle(request('events', sample('events-batch.json')));
    expect(res.statusCode).toBe(503);
  });
});

describe('ingress: status', () => {
  it('always allows and enqueues a status message for the upstream object', async () => {
    const { ingress, status } = setup();
    const res = await ingress.handle(request('status', sample('status-update-deployment.json'), { cluster: 'east' }));
    expect(JSON.parse(res.body).response).toEqual({ uid: '7f0c6a3e-0005-4c1a-9a51-000000000005', allowed: true });
    expect(status.sent).toHaveLength(1);
    expect(status.sent[0]).toMatchObject({
      type: 'status',
      cluster: 'east',
      resourceVersion: '4242',
      ref: {
        workspace: 'root:default',
        group: 'apps',
        resource: 'deployments',
        namespace: 'default',
        name: 'web',
        uid: '3b1d2c44-aaaa-4bbb-8ccc-000000000001',
      },
      status: { readyReplicas: 5 },
    });
  });

  it('allows and ignores objects tmc does not manage', async () => {
    const { ingress, status } = setup();
    const review = structuredClone(sample('status-update-deployment.json')) as {
      request: { object: { metadata: { labels: Record<string, string> } } };
    };
    delete review.request.object.metadata.labels['tmc.kcp.io/managed-by'];
    const res = await ingress.handle(request('status', review, { cluster: 'east' }));
    expect(JSON.parse(res.body).response.allowed).toBe(true);
    expect(status.sent).toHaveLength(0);
  });

  it('retries a status send that failed after the answer until it lands', async () => {
    // SQS slow under load: the first attempt fails only after the webhook answered; the retry lands.
    const landed = new RecordingQueue<StatusMessage>('status');
    let attempts = 0;
    const statusQueue = {
      name: 'status',
      send: async (messages: StatusMessage[]): Promise<void> => {
        attempts += 1;
        if (attempts === 1) {
          await new Promise((resolve) => setTimeout(resolve, 60));
          throw new NetworkError('Sending 1 message(s) to queue status failed');
        }
        await landed.send(messages);
      },
    };
    const { ingress } = setup({ statusQueue, enqueueDeadlineMs: 20, enqueueRetryDelaysMs: [10, 10] });
    const res = await ingress.handle(request('status', sample('status-update-deployment.json'), { cluster: 'east' }));
    expect(JSON.parse(res.body).response.allowed).toBe(true);
    expect(landed.sent).toEqual([]); // answered before the send ended
    await waitFor('the retried status enqueue', async () => landed.sent.length === 1);
    expect(attempts).toBe(2);
    expect(landed.sent[0]).toMatchObject({ type: 'status', cluster: 'east' });
  });

  it('allows even when the status queue hangs', async () => {
    const { ingress } = setup({ statusQueue: new HangingQueue('status'), enqueueDeadlineMs: 50 });
    const res = await ingress.handle(request('status', sample('status-update-deployment.json'), { cluster: 'east' }));
    expect(JSON.parse(res.body).response.allowed).toBe(true);
  });
});
