import { startWorkloadSimulator, type WorkloadSimulatorOptions } from '../../../lib/sim/controllers';
import type { GroupVersionResource, KubeObject } from '../../../lib/kube/object';
import type { WorkloadSimulator } from '../../../lib/sim/contracts';
import { FakeClusterStore } from './fake-cluster-store';

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const STATEFULSETS = { group: 'apps', version: 'v1', resource: 'statefulsets' };
const DAEMONSETS = { group: 'apps', version: 'v1', resource: 'daemonsets' };
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs' };
const PODS = { group: '', version: 'v1', resource: 'pods' };
const REPLICASETS = { group: 'apps', version: 'v1', resource: 'replicasets' };
const DELAY = 1000;

function template(cpu?: string, annotations?: Record<string, string>): Record<string, unknown> {
  return {
    metadata: { labels: { app: 'web' }, ...(annotations ? { annotations } : {}) },
    spec: {
      containers: [
        { name: 'app', image: 'nginx', ...(cpu ? { resources: { requests: { cpu, memory: '64Mi' } } } : {}) },
      ],
    },
  };
}

function workload(kind: string, name: string, spec: Record<string, unknown>): KubeObject {
  const apiVersion = kind === 'Job' ? 'batch/v1' : 'apps/v1';
  return {
    apiVersion,
    kind,
    metadata: { name, namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: template(), ...spec },
  };
}

describe('workload simulator', () => {
  let store: FakeClusterStore;
  let simulator: WorkloadSimulator | undefined;
  const errors: unknown[] = [];

  function start(options: Partial<WorkloadSimulatorOptions> = {}): WorkloadSimulator {
    simulator = startWorkloadSimulator(store, {
      readyDelayMs: DELAY,
      simulatePods: false,
      onError: (error) => errors.push(error),
      ...options,
    });
    return simulator;
  }
  const status = (gvr: GroupVersionResource, name: string): Record<string, any> =>
    (store.get(gvr, 'default', name)?.status ?? {}) as Record<string, any>;
  const writesFor = (name: string): number =>
    store.statusWrites.filter((write) => write.object.metadata.name === name).length;

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2025-03-01T12:00:00Z') });
    store = new FakeClusterStore();
    errors.splice(0);
  });
  afterEach(() => {
    simulator?.stop();
    simulator = undefined;
    jest.useRealTimers();
  });

  it.each([
    [
      'Deployment',
      DEPLOYMENTS,
      { replicas: 3 },
      {
        observedGeneration: 1,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
        conditions: [
          expect.objectContaining({ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }),
          expect.objectContaining({
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: expect.stringMatching(/^ReplicaSet "web-[a-z0-9]+" has successfully progressed\.$/),
          }),
        ],
      },
    ],
    [
      'StatefulSet',
      STATEFULSETS,
      { replicas: 2 },
      {
        observedGeneration: 1,
        replicas: 2,
        readyReplicas: 2,
        currentReplicas: 2,
        updatedReplicas: 2,
        availableReplicas: 2,
        currentRevision: expect.stringMatching(/^web-/),
        collisionCount: 0,
      },
    ],
    [
      'DaemonSet',
      DAEMONSETS,
      {},
      {
        observedGeneration: 1,
        desiredNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberReady: 3,
        numberAvailable: 3,
        updatedNumberScheduled: 3,
        numberMisscheduled: 0,
      },
    ],
    [
      'Job',
      JOBS,
      { completions: 2, parallelism: 2 },
      {
        succeeded: 2,
        startTime: '2025-03-01T12:00:00Z',
        completionTime: '2025-03-01T12:00:01Z',
        conditions: [
          expect.objectContaining({ type: 'SuccessCriteriaMet', status: 'True' }),
          expect.objectContaining({ type: 'Complete', status: 'True', reason: 'CompletionsReached' }),
        ],
      },
    ],
  ])('a %s reaches its ready status after readyDelayMs', async (kind, gvr, spec, expected) => {
    start();
    store.create(gvr, workload(kind, 'web', spec));
    await jest.advanceTimersByTimeAsync(DELAY - 1);
    expect(status(gvr, 'web')).not.toMatchObject(expected);
    await jest.advanceTimersByTimeAsync(1);
    expect(status(gvr, 'web')).toEqual(expect.objectContaining(expected));
    expect(writesFor('web')).toBe(2);
  });

  it('writes observedGeneration and unready counts at once, like the deployment controller', async () => {
    start();
    store.create(DEPLOYMENTS, workload('Deployment', 'web', { replicas: 4 }));
    await jest.advanceTimersByTimeAsync(0);
    expect(status(DEPLOYMENTS, 'web')).toEqual({
      observedGeneration: 1,
      replicas: 4,
      updatedReplicas: 4,
      unavailableReplicas: 4,
      conditions: [
        expect.objectContaining({ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }),
        expect.objectContaining({ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }),
      ],
    });
  });

  it('makes one write per object when intermediateStatus is off, and none for its own events', async () => {
    start({ intermediateStatus: false });
    for (let i = 0; i < 50; i++) store.create(DEPLOYMENTS, workload('Deployment', `web-${i}`, { replicas: 2 }));
    await jest.advanceTimersByTimeAsync(DELAY * 3);
    expect(store.statusWrites).toHaveLength(50);
  });

  it('flips Available to False while a small Deployment scales up, as maxUnavailable 25% rounds to 0', async () => {
    start();
    const created = store.create(DEPLOYMENTS, workload('Deployment', 'web', { replicas: 1 }));
    await jest.advanceTimersByTimeAsync(DELAY);
    store.update(DEPLOYMENTS, {
      ...store.get(DEPLOYMENTS, 'default', 'web')!,
      spec: { ...(created.spec as object), replicas: 2 },
    });
    await jest.advanceTimersByTimeAsync(0);
    expect(status(DEPLOYMENTS, 'web').conditions[0]).toMatchObject({ type: 'Available', status: 'False' });
  });

  it('progresses again on a spec change, keeping lastTransitionTime of unchanged conditions', async () => {
    start();
    const created = store.create(DEPLOYMENTS, workload('Deployment', 'web', { replicas: 4 }));
    await jest.advanceTimersByTimeAsync(DELAY);
    const availableSince = status(DEPLOYMENTS, 'web').conditions[0].lastTransitionTime;
    jest.setSystemTime(new Date('2025-03-01T12:05:00Z'));
    store.update(DEPLOYMENTS, {
      ...store.get(DEPLOYMENTS, 'default', 'web')!,
      spec: { ...(created.spec as object), replicas: 5 },
    });
    await jest.advanceTimersByTimeAsync(0);
    // 4 of 5 available is within maxUnavailable (25% of 5, rounded down: 1), so Available stays True.
    expect(status(DEPLOYMENTS, 'web')).toMatchObject({
      observedGeneration: 2,
      replicas: 5,
      readyReplicas: 4,
      unavailableReplicas: 1,
    });
    await jest.advanceTimersByTimeAsync(DELAY);
    expect(status(DEPLOYMENTS, 'web')).toMatchObject({ observedGeneration: 2, readyReplicas: 5, availableReplicas: 5 });
    expect(status(DEPLOYMENTS, 'web').conditions[0]).toMatchObject({
      type: 'Available',
      status: 'True',
      lastTransitionTime: availableSince,
    });
  });

  it('ignores label-only changes (no new generation)', async () => {
    start();
    store.create(DEPLOYMENTS, workload('Deployment', 'web', {}));
    await jest.advanceTimersByTimeAsync(DELAY);
    const before = store.statusWrites.length;
    const current = store.get(DEPLOYMENTS, 'default', 'web')!;
    store.update(DEPLOYMENTS, { ...current, metadata: { ...current.metadata, labels: { touched: 'yes' } } });
    await jest.advanceTimersByTimeAsync(DELAY * 2);
    expect(store.statusWrites.length).toBe(before);
  });

  it.each([
    ['the default backoffLimit', {}, 7],
    ['backoffLimit 2', { backoffLimit: 2 }, 3],
  ])('fails a Job whose pod template asks for it, after %s', async (_case, spec, failed) => {
    start();
    store.create(
      JOBS,
      workload('Job', 'doomed', { ...spec, template: template(undefined, { 'sim.tmc.dev/fail': 'true' }) }),
    );
    await jest.advanceTimersByTimeAsync(DELAY);
    expect(status(JOBS, 'doomed')).toMatchObject({
      failed,
      conditions: [
        expect.objectContaining({ type: 'FailureTarget', reason: 'BackoffLimitExceeded' }),
        expect.objectContaining({
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        }),
      ],
    });
    expect(status(JOBS, 'doomed').completionTime).toBeUndefined();
  });

  it('keeps a suspended Job suspended', async () => {
    start();
    store.create(JOBS, workload('Job', 'later', { suspend: true }));
    await jest.advanceTimersByTimeAsync(DELAY);
    expect(status(JOBS, 'later')).toMatchObject({
      conditions: [expect.objectContaining({ type: 'Suspended', status: 'True', reason: 'JobSuspended' })],
    });
    expect(status(JOBS, 'later').succeeded).toBeUndefined();
  });

  it('simulates as many DaemonSet pods as the nodes option says', async () => {
    start({ nodes: 5 });
    store.create(DAEMONSETS, workload('DaemonSet', 'agent', {}));
    await jest.advanceTimersByTimeAsync(DELAY);
    expect(status(DAEMONSETS, 'agent')).toMatchObject({ desiredNumberScheduled: 5, numberReady: 5 });
  });

  describe('capacity', () => {
    it('leaves replicas beyond capacity unready, then readies them when capacity frees', async () => {
      start({ capacity: { cpu: '2', memory: '8Gi', pods: 100 } });
      store.create(DEPLOYMENTS, workload('Deployment', 'first', { replicas: 3, template: template('500m') }));
      await jest.advanceTimersByTimeAsync(DELAY);
      store.create(DEPLOYMENTS, workload('Deployment', 'second', { replicas: 3, template: template('500m') }));
      await jest.advanceTimersByTimeAsync(DELAY);
      expect(status(DEPLOYMENTS, 'first')).toMatchObject({ readyReplicas: 3 });
      expect(status(DEPLOYMENTS, 'second')).toMatchObject({
        replicas: 3,
        readyReplicas: 1,
        availableReplicas: 1,
        unavailableReplicas: 2,
        conditions: expect.arrayContaining([
          expect.objectContaining({ type: 'Available', status: 'False' }),
          expect.objectContaining({
            type: 'ReplicaFailure',
            status: 'True',
            reason: 'InsufficientCapacity',
            message: '0/3 nodes are available: Insufficient cpu.',
          }),
        ]),
      });
      store.delete(DEPLOYMENTS, 'default', 'first');
      await jest.advanceTimersByTimeAsync(1);
      expect(status(DEPLOYMENTS, 'second')).toMatchObject({ readyReplicas: 3, availableReplicas: 3 });
      expect(status(DEPLOYMENTS, 'second').unavailableReplicas).toBeUndefined();
      expect(status(DEPLOYMENTS, 'second').conditions.map((c: { type: string }) => c.type)).toEqual([
        'Available',
        'Progressing',
      ]);
    });

    it.each([
      ['pods', { pods: 4 }, 4, 'pods'],
      ['memory', { memory: '200Mi' }, 3, 'memory'],
      ['cpu in millicores', { cpu: '1500m' }, 3, 'cpu'],
    ])('limits readiness by %s', async (_case, capacity, ready, resource) => {
      start({ capacity });
      store.create(STATEFULSETS, workload('StatefulSet', 'db', { replicas: 6, template: template('500m') }));
      await jest.advanceTimersByTimeAsync(DELAY);
      expect(status(STATEFULSETS, 'db')).toMatchObject({ replicas: 6, readyReplicas: ready, availableReplicas: ready });
      expect(resource).toBeDefined();
    });

    it('gives a finished Job’s capacity back', async () => {
      start({ capacity: { pods: 1 } });
      store.create(JOBS, workload('Job', 'batch', {}));
      await jest.advanceTimersByTimeAsync(DELAY);
      store.create(DEPLOYMENTS, workload('Deployment', 'web', { replicas: 1 }));
      await jest.advanceTimersByTimeAsync(DELAY);
      expect(status(JOBS, 'batch')).toMatchObject({ succeeded: 1 });
      expect(status(DEPLOYMENTS, 'web')).toMatchObject({ readyReplicas: 1 });
    });
  });

  it('cancels the timer of a deleted object, and a stop cancels all', async () => {
    start();
    store.create(DEPLOYMENTS, workload('Deployment', 'gone', {}));
    store.create(DEPLOYMENTS, workload('Deployment', 'stays', {}));
    await jest.advanceTimersByTimeAsync(0);
    store.delete(DEPLOYMENTS, 'default', 'gone');
    await jest.advanceTimersByTimeAsync(DELAY);
    expect(writesFor('gone')).toBe(1);
    expect(status(DEPLOYMENTS, 'stays')).toMatchObject({ readyReplicas: 1 });

    store.create(DEPLOYMENTS, workload('Deployment', 'late', {}));
    simulator!.stop();
    expect(jest.getTimerCount()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('survives the object vanishing during its status write', async () => {
    start({ intermediateStatus: false });
    store.create(DEPLOYMENTS, workload('Deployment', 'web', {}));
    const original = store.updateStatus.bind(store);
    jest.spyOn(store, 'updateStatus').mockImplementationOnce(async (gvr, object) => {
      store.delete(gvr, 'default', 'web');
      return original(gvr, object);
    });
    await jest.advanceTimersByTimeAsync(DELAY);
    expect(store.get(DEPLOYMENTS, 'default', 'web')).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('retries a refused status write, then reports it without crashing', async () => {
    start({ intermediateStatus: false });
    store.failStatusWrites = () => new Error('admission webhook "status.tmc.dev" denied the request');
    store.create(DEPLOYMENTS, workload('Deployment', 'web', {}));
    await jest.advanceTimersByTimeAsync(DELAY * 10);
    expect(errors).toHaveLength(1);
    store.failStatusWrites = undefined;
    expect(jest.getTimerCount()).toBe(0);
  });

  it('picks up workloads that existed before it started', async () => {
    store.create(DEPLOYMENTS, workload('Deployment', 'old', { replicas: 2 }));
    start();
    await jest.advanceTimersByTimeAsync(DELAY);
    expect(status(DEPLOYMENTS, 'old')).toMatchObject({ readyReplicas: 2 });
    simulator!.stop();
    // A restarted simulator finds the status settled and writes nothing.
    const before = store.statusWrites.length;
    start();
    await jest.advanceTimersByTimeAsync(DELAY);
    expect(store.statusWrites.length).toBe(before);
  });

  describe('with simulatePods', () => {
    it('creates a ReplicaSet and Running pods owned by it, Pending ones beyond capacity, and removes them with the Deployment', async () => {
      start({ simulatePods: true, capacity: { pods: 2 } });
      const deployment = store.create(DEPLOYMENTS, workload('Deployment', 'web', { replicas: 3 }));
      await jest.advanceTimersByTimeAsync(DELAY);
      const [rs] = store.list(REPLICASETS, 'default');
      expect(rs.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Deployment', uid: deployment.metadata.uid, controller: true }),
      ]);
      expect(rs.status).toMatchObject({ replicas: 3, readyReplicas: 2 });
      const pods = store.list(PODS, 'default');
      expect(pods).toHaveLength(3);
      expect(pods.every((pod) => pod.metadata.ownerReferences?.[0].uid === rs.metadata.uid)).toBe(true);
      expect(pods.every((pod) => pod.metadata.name?.startsWith(`${rs.metadata.name}-`))).toBe(true);
      expect(pods.map((pod) => (pod.status as { phase: string }).phase).sort()).toEqual([
        'Pending',
        'Running',
        'Running',
      ]);
      const running = pods.find((pod) => (pod.status as { phase: string }).phase === 'Running')!;
      expect(running.status).toMatchObject({
        conditions: expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]),
        podIP: expect.stringMatching(/^10\.244\./),
      });
      expect(running.spec).toMatchObject({ nodeName: expect.stringMatching(/^sim-node-/) });

      store.delete(DEPLOYMENTS, 'default', 'web');
      await jest.advanceTimersByTimeAsync(0);
      expect(store.list(PODS, 'default')).toHaveLength(0);
      expect(store.list(REPLICASETS, 'default')).toHaveLength(0);
      expect(errors).toEqual([]);
    });

    it('names StatefulSet pods by ordinal and scales them down', async () => {
      start({ simulatePods: true });
      store.create(STATEFULSETS, workload('StatefulSet', 'db', { replicas: 3 }));
      await jest.advanceTimersByTimeAsync(DELAY);
      expect(
        store
          .list(PODS, 'default')
          .map((pod) => pod.metadata.name)
          .sort(),
      ).toEqual(['db-0', 'db-1', 'db-2']);
      const current = store.get(STATEFULSETS, 'default', 'db')!;
      store.update(STATEFULSETS, { ...current, spec: { ...(current.spec as object), replicas: 1 } });
      await jest.advanceTimersByTimeAsync(DELAY);
      expect(store.list(PODS, 'default').map((pod) => pod.metadata.name)).toEqual(['db-0']);
    });
  });
});
