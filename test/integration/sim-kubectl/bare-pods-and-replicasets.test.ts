import { startSimUnderTest, type SimUnderTest } from './sim-harness';

const replicaSet = (name: string, replicas: number): string =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } },
    },
  });

// Pods and ReplicaSets created directly (no Deployment owns them) progress like the rest, so `kubectl run` and
// `kubectl get pods` look alive against a simulated cluster with pod simulation off.
describe('simulator: bare Pods and ReplicaSets with kubectl', () => {
  let sim: SimUnderTest;

  beforeAll(async () => {
    sim = await startSimUnderTest({ workloads: { readyDelayMs: 200, simulatePods: false, capacity: { pods: 4 } } });
  });
  afterAll(() => sim?.stop());

  it('kubectl run: the Pod becomes Running and Ready after the ready delay', async () => {
    await sim.ok(['run', 'web', '--image=nginx:1.25']);
    await sim.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=20s']);
    const table = await sim.ok(['get', 'pods', '--no-headers']);
    expect(table).toMatch(/^web\s+1\/1\s+Running\s+0\s+/);
    expect(await sim.ok(['get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}'])).toMatch(/^10\.244\.\d+\.\d+$/);
  });

  it('a bare ReplicaSet reports readyReplicas, and again after it is scaled', async () => {
    await sim.ok(['apply', '-f', '-'], replicaSet('cache', 2));
    await sim.ok(['wait', '--for=jsonpath={.status.readyReplicas}=2', 'rs/cache', '--timeout=20s']);
    expect(JSON.parse(await sim.ok(['get', 'rs', 'cache', '-o', 'json'])).status).toEqual({
      replicas: 2,
      fullyLabeledReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      observedGeneration: 1,
    });
    await sim.ok(['scale', 'rs', 'cache', '--replicas=3']);
    await sim.ok(['wait', '--for=jsonpath={.status.readyReplicas}=3', 'rs/cache', '--timeout=20s']);
    expect(await sim.ok(['get', 'rs', 'cache', '--no-headers'])).toMatch(/^cache\s+3\s+3\s+3\s+/);
  });

  it('a Pod that does not fit the cluster capacity stays Pending and Unschedulable', async () => {
    // web (1) + cache (3) fill the 4 pods of capacity.
    await sim.ok(['run', 'late', '--image=nginx:1.25']);
    await sim.ok(['wait', '--for=jsonpath={.status.conditions[0].reason}=Unschedulable', 'pod/late', '--timeout=20s']);
    expect(
      await sim.ok(['get', 'pod', 'late', '-o', 'jsonpath={.status.phase}: {.status.conditions[0].message}']),
    ).toBe('Pending: 0/3 nodes are available: Insufficient pods.');
  });
});
