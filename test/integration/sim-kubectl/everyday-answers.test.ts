import { startSimUnderTest, type SimUnderTest } from './sim-harness';

/**
 * Issue 17's everyday kubectl answers: `kubectl auth can-i` (a SelfSubjectAccessReview, sent as protobuf) gets an
 * answer instead of NotFound, and the standard kinds an application install contains are served.
 */
describe('simulator: kubectl auth can-i and the standard kinds', () => {
  let sim: SimUnderTest;
  beforeAll(async () => {
    sim = await startSimUnderTest();
  });
  afterAll(() => sim?.stop());

  it('answers can-i yes (the simulator authorizes every authenticated request) and stores no review', async () => {
    expect((await sim.ok(['auth', 'can-i', 'create', 'deployments', '-n', 'shop'])).trim()).toBe('yes');
    expect((await sim.ok(['auth', 'can-i', 'get', '/healthz'])).trim()).toBe('yes');
    expect(await sim.ok(['auth', 'can-i', '--list'])).toMatch(/\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
    const review = JSON.parse(
      await sim.ok(
        ['create', '-o', 'json', '-f', '-'],
        JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: 'get', resource: 'pods' } },
        }),
      ),
    ) as { status?: { allowed?: boolean; reason?: string } };
    expect(review.status).toMatchObject({
      allowed: true,
      reason: expect.stringContaining('authorizes every authenticated request'),
    });
    expect(
      sim.server.store().list({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews' }),
    ).toEqual([]);
  });

  it.each([
    ['priorityclasses', 'scheduling.k8s.io'],
    ['runtimeclasses', 'node.k8s.io'],
    ['csidrivers', 'storage.k8s.io'],
    ['events', 'events.k8s.io'],
    ['endpointslices', 'discovery.k8s.io'],
  ])('serves %s.%s', async (resource, group) => {
    expect(await sim.ok(['api-resources', `--api-group=${group}`, '-o', 'name'])).toContain(`${resource}.${group}`);
  });

  it('stores a PriorityClass applied with kubectl', async () => {
    await sim.ok(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name: 'urgent' },
        value: 1000,
      }),
    );
    expect(await sim.ok(['get', 'priorityclass', 'urgent', '-o', 'jsonpath={.value}'])).toBe('1000');
  });
});
