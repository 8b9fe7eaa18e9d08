import type { ObjectRef } from '../../../lib/api/object-ref';
import { makeKcpEventRecorder } from '../../../lib/sync/kcp-event-recorder';
import { FakeConnector } from '../../integration/sync/fake-kube';

const ref: ObjectRef = {
  workspace: 'root:team-b',
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  resource: 'clusterroles',
  kind: 'ClusterRole',
  name: 'writer',
  uid: 'u-1',
};
function connector(): FakeConnector {
  const kube = new FakeConnector();
  kube.kcpOf('root:team-b').put('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  kube.kcpOf('root:team-b').calls.length = 0;
  return kube;
}
const eventsIn = (kube: FakeConnector): Array<Record<string, unknown>> =>
  [...kube.kcpOf('root:team-b').objects.entries()].filter(([key]) => key.startsWith('events|')).map(([, o]) => o);
const conflict = {
  type: 'Warning' as const,
  reason: 'SyncConflict',
  message: 'east: ClusterRole writer is already used by workspace root:team-a',
};

describe('Events on kcp objects, aggregated like kube’s recorder', () => {
  it('writes one Event, counts repeats inside the window in memory, and carries them into the next write', async () => {
    const kube = connector();
    let now = 0;
    const recorder = makeKcpEventRecorder(kube, { now: () => now, windowMs: 60_000 });
    await recorder.record(ref, conflict);
    await recorder.record(ref, conflict);
    await recorder.record(ref, conflict);
    const kcp = kube.kcpOf('root:team-b');
    expect(kcp.writes()).toBe(1);
    const [event] = eventsIn(kube);
    // A cluster-scoped object's Events live in `default`, as kube-apiserver's do.
    expect(event).toMatchObject({
      metadata: { namespace: 'default' },
      type: 'Warning',
      reason: 'SyncConflict',
      count: 1,
      involvedObject: { kind: 'ClusterRole', name: 'writer', uid: 'u-1', apiVersion: 'rbac.authorization.k8s.io/v1' },
    });
    now = 61_000;
    await recorder.record(ref, conflict);
    expect(kcp.writes()).toBe(2);
    expect(eventsIn(kube)).toHaveLength(1);
    expect(eventsIn(kube)[0].count).toBe(4);
  });

  it('a different message is a different Event; a failed write is reported, never thrown', async () => {
    const kube = connector();
    const errors: unknown[] = [];
    const recorder = makeKcpEventRecorder(kube, { now: () => 0, onError: (e) => errors.push(e) });
    await recorder.record(ref, conflict);
    await recorder.record(ref, { ...conflict, message: 'west: something else' });
    expect(eventsIn(kube)).toHaveLength(2);
    kube.kcpOf('root:team-b').failNext('get', new Error('kcp down') as never);
    await expect(recorder.record(ref, { ...conflict, reason: 'ClusterConfiguration' })).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('bounds one object’s Events by a token bucket, as kube’s spam filter: 25, then one per 5 minutes', async () => {
    const kube = connector();
    let now = 0;
    const recorder = makeKcpEventRecorder(kube, { now: () => now, burst: 3, refillMs: 300_000 });
    const kcp = kube.kcpOf('root:team-b');
    for (let i = 0; i < 5; i++) await recorder.record(ref, { ...conflict, message: `east: failure ${i}` });
    expect(eventsIn(kube)).toHaveLength(3);
    expect(kcp.writes()).toBe(3);
    // Another object has a bucket of its own.
    await recorder.record({ ...ref, name: 'reader', uid: 'u-2' }, conflict);
    expect(eventsIn(kube)).toHaveLength(4);
    now = 299_000;
    await recorder.record(ref, { ...conflict, message: 'east: failure 9' });
    expect(eventsIn(kube)).toHaveLength(4);
    now = 300_000;
    await recorder.record(ref, { ...conflict, message: 'east: failure 9' });
    expect(eventsIn(kube)).toHaveLength(5);
  });

  it('writes the fields events.k8s.io/v1 needs: action, reportingComponent and reportingInstance', async () => {
    const kube = connector();
    await makeKcpEventRecorder(kube, { now: () => 0 }).record(
      { ...ref, namespace: 'default', kind: 'Deployment', group: 'apps', resource: 'deployments', name: 'web' },
      { type: 'Normal', reason: 'Applied', message: 'Applied to east' },
    );
    expect(eventsIn(kube)[0]).toMatchObject({
      metadata: { namespace: 'default' },
      action: 'Applied',
      reportingComponent: 'tmc',
      reportingInstance: 'tmc',
      involvedObject: { kind: 'Deployment', namespace: 'default', name: 'web' },
    });
  });
});
