import { LOCATION_RESOURCE, PLACEMENT_RESOURCE, SCHEDULING_GROUP, SCHEDULING_VERSION } from '../../../lib/api/crds';
import { ClusterThrottledError, ClusterUnavailableError, SyncTimeoutError } from '../../../lib/errors/tmc-error';
import type { KubeClient, KubeConnector, KubeObject } from '../../../lib/ports/kube-client';
import { makePolicySource } from '../../../lib/placement/policy-source';
import { memoryLog } from '../../../lib/observability/log';

const placement: KubeObject = {
  apiVersion: `${SCHEDULING_GROUP}/${SCHEDULING_VERSION}`,
  kind: 'Placement',
  metadata: { name: 'aws', uid: 'p1' },
  spec: { namespaceSelector: {}, locationSelectors: [{}] },
};

/** A kcp whose list of one resource fails with `fault` (a 503, a 429, a timeout) while the others answer. */
function kcpFailing(resource: string, fault: () => Error): { connector: KubeConnector; lists: string[] } {
  const lists: string[] = [];
  const client: Pick<KubeClient, 'list'> = {
    list: async (type) => {
      lists.push(type.resource);
      if (type.resource === resource) throw fault();
      return type.resource === PLACEMENT_RESOURCE ? [structuredClone(placement)] : [];
    },
  };
  const connector: KubeConnector = {
    kcp: async () => client as KubeClient,
    cluster: async () => client as KubeClient,
    forget: () => undefined,
  };
  return { connector, lists };
}

describe('policy source: a failed read of Placements or Locations is an error, never "no policies"', () => {
  it.each([
    [
      'Placements answer 503',
      PLACEMENT_RESOURCE,
      () => new ClusterUnavailableError('kcp answered 503', { statusCode: 503 }),
    ],
    [
      'Placements answer 429',
      PLACEMENT_RESOURCE,
      () => new ClusterThrottledError('kcp answered 429', { statusCode: 429, retryAfterSeconds: 1 }),
    ],
    ['Locations time out', LOCATION_RESOURCE, () => new SyncTimeoutError('kcp did not answer')],
  ])('%s: load rejects, and the failure is not cached', async (_case, resource, fault) => {
    let now = 1_000;
    const { connector, lists } = kcpFailing(resource, fault);
    const source = makePolicySource(connector, memoryLog(), { ttlMs: 5_000, now: () => now });
    await expect(source.load('root:default')).rejects.toMatchObject({ name: fault().name });
    const before = lists.length;
    now += 10; // well within the TTL: a cached failure would answer without reading
    await expect(source.load('root:default')).rejects.toMatchObject({ name: fault().name });
    expect(lists.length).toBeGreaterThan(before);
  });

  it('a successful read is the truth, and is cached for the TTL', async () => {
    const { connector, lists } = kcpFailing('nothing-fails', () => new Error('unused'));
    const source = makePolicySource(connector, memoryLog(), { ttlMs: 5_000, now: () => 1_000 });
    const first = await source.load('root:default');
    expect(first.placements.map((p) => p.metadata.name)).toEqual(['aws']);
    await source.load('root:default');
    expect(lists).toEqual([PLACEMENT_RESOURCE, LOCATION_RESOURCE]);
  });
});
