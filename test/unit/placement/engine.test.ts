import { decide, divideReplicas, type ClusterInfo, type DecideInput, type Decision } from '../../../lib/placement';
import type { Placement } from '../../../lib/api/crds';
import type { KubeObject } from '../../../lib/kube/object';
import { cluster, configMap, deployment, location, NOW, placement, regional } from './fixtures';

function run(input: Partial<DecideInput> & { clusters: ClusterInfo[] }): Decision {
  return decide({ object: deployment('web'), policies: [], locations: [], options: { now: NOW }, ...input });
}
const names = (d: Decision): string[] => d.clusters.map((c) => c.name);
const three = [regional('east', 'us-east-1'), regional('west', 'us-west-2'), regional('eu', 'eu-west-1')];

describe('filters', () => {
  it.each<[string, ClusterInfo[], Placement | undefined, string[]]>([
    [
      'clusterSelector',
      [cluster('a', { labels: { tier: 'gold' } }), cluster('b', { labels: { tier: 'bronze' } })],
      placement('p', { clusterSelector: { matchLabels: { tier: 'gold' } } }),
      ['a'],
    ],
    [
      'clusterSelector matchExpressions NotIn',
      [cluster('a', { labels: { tier: 'gold' } }), cluster('b')],
      placement('p', { clusterSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] } }),
      ['b'],
    ],
    ['regions', three, placement('p', { clusterConstraints: { regions: ['eu-west-1'] } }), ['eu']],
    [
      'regions by alias label',
      [cluster('a', { labels: { region: 'x' } }), cluster('b', { labels: { region: 'y' } })],
      placement('p', { clusterConstraints: { regions: ['y'] } }),
      ['b'],
    ],
    ['zones', three, placement('p', { clusterConstraints: { zones: ['us-west-2a'] } }), ['west']],
    [
      'providers',
      [regional('a', 'r', 'z', 'aws'), regional('b', 'r', 'z', 'gcp')],
      placement('p', { clusterConstraints: { providers: ['gcp'] } }),
      ['b'],
    ],
    ['cordoned cluster', [cluster('a', { unschedulable: true }), cluster('b')], placement('p'), ['b']],
    ['unhealthy cluster', [cluster('a', { health: 'Unhealthy' }), cluster('b')], placement('p'), ['b']],
    [
      'unknown health is usable',
      [cluster('a', { health: 'Unknown' }), cluster('b', { health: 'Unhealthy' })],
      placement('p'),
      ['a'],
    ],
    [
      'NoSchedule taint not tolerated',
      [cluster('a', { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] }), cluster('b')],
      placement('p'),
      ['b'],
    ],
    [
      'NoSchedule taint tolerated',
      [cluster('a', { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] }), cluster('b')],
      placement('p', { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true' }] }),
      ['a', 'b'],
    ],
    [
      'Exists with no key tolerates all',
      [cluster('a', { taints: [{ key: 'x', effect: 'NoExecute' }] })],
      placement('p', { tolerations: [{ operator: 'Exists' }] }),
      ['a'],
    ],
    [
      'NoExecute untolerated',
      [cluster('a', { taints: [{ key: 'x', effect: 'NoExecute' }] }), cluster('b')],
      placement('p'),
      ['b'],
    ],
    [
      'NoExecute tolerationSeconds not yet expired',
      [cluster('a', { taints: [{ key: 'x', effect: 'NoExecute', timeAdded: new Date(NOW - 10_000).toISOString() }] })],
      placement('p', { tolerations: [{ key: 'x', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] }),
      ['a'],
    ],
    [
      'NoExecute tolerationSeconds expired',
      [
        cluster('a', { taints: [{ key: 'x', effect: 'NoExecute', timeAdded: new Date(NOW - 120_000).toISOString() }] }),
        cluster('b'),
      ],
      placement('p', { tolerations: [{ key: 'x', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] }),
      ['b'],
    ],
    [
      'required affinity (terms ORed)',
      [cluster('a', { labels: { t: '1' } }), cluster('b', { labels: { t: '2' } }), cluster('c')],
      placement('p', { affinity: { required: [{ matchLabels: { t: '1' } }, { matchLabels: { t: '2' } }] } }),
      ['a', 'b'],
    ],
    [
      'required anti-affinity',
      [cluster('a', { labels: { edge: 'true' } }), cluster('b')],
      placement('p', { antiAffinity: { required: [{ matchLabels: { edge: 'true' } }] } }),
      ['b'],
    ],
    [
      'capacity: no room for the replicas',
      [cluster('small', { allocatable: { cpu: 1 } }), cluster('big', { allocatable: { cpu: 8 } })],
      placement('p'),
      ['big'],
    ],
    [
      'capacity: allocated counts',
      [
        cluster('full', { allocatable: { cpu: 8 }, allocated: { cpu: 7.5 } }),
        cluster('free', { allocatable: { cpu: 8 } }),
      ],
      placement('p'),
      ['free'],
    ],
    ['capacity unknown is not refused', [cluster('unknown')], placement('p'), ['unknown']],
    // As the inventory reports a SyncTarget: capacity 4, allocatable (free) 2, so allocated 2. Free is 2 (both replicas), not 2 − 2.
    [
      'capacity: allocatable is the free room, not counted twice',
      [cluster('a', { capacity: { cpu: 4 }, allocatable: { cpu: 2 }, allocated: { cpu: 2 } })],
      placement('p'),
      ['a'],
    ],
    [
      'locationSelectors',
      [cluster('a', { labels: { loc: 'eu' } }), cluster('b', { labels: { loc: 'us' } })],
      placement('p', { locationSelectors: [{ matchLabels: { geo: 'europe' } }] }),
      ['a'],
    ],
  ])('%s', (_label, clusters, policy, expected) => {
    const object = deployment('web', { replicas: 2, cpu: '1' });
    const locations = [
      location('europe', { geo: 'europe' }, { matchLabels: { loc: 'eu' } }),
      location('america', { geo: 'america' }, { matchLabels: { loc: 'us' } }),
    ];
    const d = run({ object, clusters, policies: policy ? [policy] : [], locations });
    expect(names(d).sort()).toEqual(expected.sort());
    expect(d.scheduled).toBe(true);
  });
});

describe('which Placement applies', () => {
  const nsLabels = { team: 'a' };
  it.each<[string, Placement[], KubeObject, Record<string, string> | undefined, string | undefined]>([
    [
      'namespaceSelector matches',
      [placement('a', { namespaceSelector: { matchLabels: { team: 'a' } } })],
      deployment('web'),
      nsLabels,
      'a',
    ],
    [
      'namespaceSelector does not match',
      [placement('b', { namespaceSelector: { matchLabels: { team: 'b' } } })],
      deployment('web'),
      nsLabels,
      undefined,
    ],
    [
      'objectSelectors by group and kind',
      [
        placement('cm', { objectSelectors: [{ group: '', kind: 'ConfigMap' }] }),
        placement('dep', { objectSelectors: [{ group: 'apps', kind: 'Deployment' }] }),
      ],
      configMap('c'),
      nsLabels,
      'cm',
    ],
    [
      'objectSelectors by labels',
      [placement('l', { objectSelectors: [{ group: 'apps', labelSelector: { matchLabels: { tier: 'web' } } }] })],
      deployment('web', { labels: { tier: 'web' } }),
      nsLabels,
      'l',
    ],
    [
      'highest priority wins',
      [placement('low', { priority: 1 }), placement('high', { priority: 5 })],
      deployment('web'),
      nsLabels,
      'high',
    ],
    ['equal priority: first name wins', [placement('zeta'), placement('alpha')], deployment('web'), nsLabels, 'alpha'],
  ])('%s', (_label, policies, object, ns, expected) => {
    const d = decide({
      object,
      namespaceLabels: ns,
      policies,
      locations: [],
      clusters: [cluster('a')],
      options: { now: NOW },
    });
    if (expected) expect(d.placement).toBe(expected);
    else {
      expect(d.scheduled).toBe(false);
      expect(d.reason).toBe('NoMatchingPlacement');
      expect(d.message).toContain('No Placement selects Deployment default/web');
    }
  });
});

describe('scores and strategy', () => {
  const loaded = [
    cluster('busy', { allocatable: { cpu: 10 }, allocated: { cpu: 8 } }),
    cluster('mid', { allocatable: { cpu: 10 }, allocated: { cpu: 5 } }),
    cluster('idle', { allocatable: { cpu: 10 }, allocated: { cpu: 1 } }),
  ];
  it.each<[string, Placement, ClusterInfo[], string[]]>([
    ['Spread prefers the least loaded', placement('p', { numberOfClusters: 1, strategy: 'Spread' }), loaded, ['idle']],
    [
      'Pack prefers the most loaded that fits',
      placement('p', { numberOfClusters: 1, strategy: 'Pack' }),
      loaded,
      ['busy'],
    ],
    [
      'preferred affinity outweighs load',
      placement('p', {
        numberOfClusters: 1,
        affinity: { preferred: [{ weight: 100, preference: { matchLabels: { gold: 'y' } } }] },
      }),
      [
        cluster('a', { labels: { gold: 'y' }, allocatable: { cpu: 10 }, allocated: { cpu: 9 } }),
        cluster('b', { allocatable: { cpu: 10 } }),
      ],
      ['a'],
    ],
    [
      'preferred anti-affinity penalises',
      placement('p', {
        numberOfClusters: 1,
        antiAffinity: { preferred: [{ weight: 100, preference: { matchLabels: { edge: 'y' } } }] },
      }),
      [cluster('a', { labels: { edge: 'y' } }), cluster('b')],
      ['b'],
    ],
    [
      'PreferNoSchedule is a penalty, not a filter',
      placement('p', { numberOfClusters: 1 }),
      [cluster('a', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }), cluster('b')],
      ['b'],
    ],
    [
      'PreferNoSchedule still used when nothing else',
      placement('p', { numberOfClusters: 1 }),
      [cluster('a', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] })],
      ['a'],
    ],
    [
      'Healthy beats Unknown beats Degraded',
      placement('p', { numberOfClusters: 2 }),
      [cluster('d', { health: 'Degraded' }), cluster('u', { health: 'Unknown' }), cluster('h')],
      ['h', 'u'],
    ],
    ['numberOfClusters absent selects every match', placement('p'), loaded, ['busy', 'idle', 'mid']],
  ])('%s', (_label, policy, clusters, expected) => {
    const d = run({ object: deployment('web', { cpu: '100m' }), policies: [policy], clusters });
    expect(names(d).sort()).toEqual(expected.sort());
  });

  it('Balanced prefers even cpu and memory use at equal load', () => {
    const d = run({
      object: deployment('web'),
      policies: [placement('p', { numberOfClusters: 1, strategy: 'Balanced' })],
      clusters: [
        cluster('skewed', { allocatable: { cpu: 10, memory: 100 }, allocated: { cpu: 8, memory: 20 } }),
        cluster('even', { allocatable: { cpu: 10, memory: 100 }, allocated: { cpu: 5, memory: 50 } }),
      ],
    });
    expect(names(d)).toEqual(['even']);
  });
});

describe('topology spread', () => {
  const clusters = [
    regional('e1', 'us-east-1', 'a'),
    regional('e2', 'us-east-1', 'b'),
    regional('e3', 'us-east-1', 'c'),
    regional('w1', 'us-west-2', 'a'),
    regional('x1', 'eu-west-1', 'a'),
  ];
  it.each<[string, Placement, (d: Decision) => void]>([
    [
      'maxSkew 1 over region spreads 3 clusters over 3 regions',
      placement('p', { numberOfClusters: 3, spreadConstraints: [{ topologyKey: 'region', maxSkew: 1 }] }),
      (d) => {
        const regions = new Set(d.clusters.map((c) => c.name[0]));
        expect(regions.size).toBe(3);
      },
    ],
    [
      'maxSkew 1 stops at 2-1-1 when only us-east-1 has clusters left',
      placement('p', {
        numberOfClusters: 5,
        spreadConstraints: [{ topologyKey: 'region', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' }],
      }),
      (d) => {
        expect(d.clusters.length).toBe(4);
        expect(d.reason).toBe('PartiallyScheduled');
        expect(d.message).toContain('4/5 clusters selected');
        expect(d.message).toContain('maxSkew');
      },
    ],
    [
      'ScheduleAnyway takes all five',
      placement('p', {
        numberOfClusters: 5,
        spreadConstraints: [{ topologyKey: 'region', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' }],
      }),
      (d) => {
        expect(d.clusters.length).toBe(5);
        expect(d.reason).toBe('Scheduled');
      },
    ],
    [
      'DoNotSchedule rejects clusters without the label',
      placement('p', { spreadConstraints: [{ topologyKey: 'rack', maxSkew: 1 }] }),
      (d) => {
        expect(d.scheduled).toBe(false);
        expect(d.message).toContain('5 missing topology label rack');
      },
    ],
  ])('%s', (_label, policy, check) => {
    check(run({ policies: [policy], clusters }));
  });
});

describe('replicas', () => {
  it.each<[string, number, string[], number[], number[]]>([
    ['even split', 6, ['a', 'b', 'c'], [1, 1, 1], [2, 2, 2]],
    ['remainder to the largest remainders, ties by name', 5, ['a', 'b', 'c'], [1, 1, 1], [2, 2, 1]],
    ['remainder ties by name regardless of order', 5, ['c', 'b', 'a'], [1, 1, 1], [1, 2, 2]],
    ['weights 2:1', 9, ['a', 'b'], [2, 1], [6, 3]],
    ['weights with remainder', 10, ['a', 'b', 'c'], [5, 3, 2], [5, 3, 2]],
    ['largest remainder wins', 7, ['a', 'b', 'c'], [1, 2, 4], [1, 2, 4]],
    ['largest remainder fractional', 4, ['a', 'b', 'c'], [1, 1, 2], [1, 1, 2]],
    ['3 over 2 weights 1:1 → a gets the extra', 3, ['a', 'b'], [1, 1], [2, 1]],
    ['all zero weights divide equally', 4, ['a', 'b'], [0, 0], [2, 2]],
    ['zero replicas', 0, ['a', 'b'], [1, 1], [0, 0]],
  ])('divideReplicas: %s', (_label, total, clusterNames, weights, expected) => {
    const shares = divideReplicas(total, clusterNames, weights);
    expect(shares).toEqual(expected);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
  });

  const abc = [cluster('a', { labels: { tier: 'big' } }), cluster('b'), cluster('c')];
  it.each<[string, Placement, number, ClusterInfo[], Record<string, number>]>([
    [
      'Duplicated: every cluster runs spec.replicas',
      placement('p', { replicas: { mode: 'Duplicated' } }),
      3,
      abc,
      { a: 3, b: 3, c: 3 },
    ],
    ['Divided equally', placement('p', { replicas: { mode: 'Divided' } }), 7, abc, { a: 3, b: 2, c: 2 }],
    [
      'Divided by cluster weights',
      placement('p', {
        replicas: {
          mode: 'Divided',
          weights: [
            { cluster: 'a', weight: 3 },
            { cluster: 'b', weight: 1 },
          ],
        },
      }),
      8,
      abc,
      { a: 6, b: 2 },
    ],
    [
      'Divided by label weights',
      placement('p', {
        replicas: {
          mode: 'Divided',
          weights: [
            { labelSelector: { matchLabels: { tier: 'big' } }, weight: 2 },
            { cluster: 'b', weight: 1 },
            { cluster: 'c', weight: 1 },
          ],
        },
      }),
      8,
      abc,
      { a: 4, b: 2, c: 2 },
    ],
    [
      'Divided by capacity',
      placement('p', { replicas: { mode: 'Divided', byCapacity: true } }),
      6,
      [cluster('a', { allocatable: { cpu: 4 } }), cluster('b', { allocatable: { cpu: 2 } })],
      { a: 4, b: 2 },
    ],
    [
      'Divided drops clusters whose share is 0',
      placement('p', { replicas: { mode: 'Divided' } }),
      2,
      abc,
      { a: 1, b: 1 },
    ],
  ])('%s', (_label, policy, replicas, clusters, expected) => {
    const d = run({ object: deployment('web', { replicas, cpu: '1' }), policies: [policy], clusters });
    expect(Object.fromEntries(d.clusters.map((c) => [c.name, c.replicas]))).toEqual(expected);
    // Status aggregation reads the mode to make READY mean the same in both (per copy or summed).
    expect(d.replicaMode).toBe(policy.spec.replicas?.mode);
  });

  it('objects without replicas carry none, and no replica mode', () => {
    const d = run({ object: configMap('c'), policies: [placement('p')], clusters: abc });
    expect(d.clusters.every((c) => c.replicas === undefined)).toBe(true);
    expect(d.replicaMode).toBeUndefined();
  });

  it('the default placement of a Deployment duplicates', () => {
    expect(run({ object: deployment('web', { replicas: 2, cpu: '1' }), policies: [], clusters: abc }).replicaMode).toBe(
      'Duplicated',
    );
  });
});

describe('overrides', () => {
  const clusters = [regional('east', 'us-east-1'), regional('eu', 'eu-west-1')];
  it.each<[string, NonNullable<Placement['spec']['overrides']>, Record<string, unknown>]>([
    [
      'image for one cluster',
      [{ clusters: ['eu'], image: [{ image: 'mirror.eu/nginx:1.27' }] }],
      { eu: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'mirror.eu/nginx:1.27' }] },
    ],
    [
      'labels by cluster selector (object without labels)',
      [{ clusterSelector: { matchLabels: { 'topology.kubernetes.io/region': 'us-east-1' } }, labels: { 'a/b': 'c' } }],
      { east: [{ op: 'add', path: '/metadata/labels', value: { 'a/b': 'c' } }] },
    ],
    [
      'env added to a container without env',
      [{ clusters: ['east', 'eu'], env: [{ name: 'REGION', value: 'x' }] }],
      {
        east: [{ op: 'add', path: '/spec/template/spec/containers/0/env', value: [{ name: 'REGION', value: 'x' }] }],
        eu: [{ op: 'add', path: '/spec/template/spec/containers/0/env', value: [{ name: 'REGION', value: 'x' }] }],
      },
    ],
    [
      'jsonPatch passes through',
      [{ clusters: ['east'], jsonPatch: [{ op: 'add', path: '/spec/paused', value: true }] }],
      { east: [{ op: 'add', path: '/spec/paused', value: true }] },
    ],
  ])('%s', (_label, overrides, expected) => {
    const d = run({ policies: [placement('p', { overrides })], clusters });
    const patches = Object.fromEntries(d.clusters.filter((c) => c.patch).map((c) => [c.name, c.patch]));
    expect(patches).toEqual(expected);
  });

  it('labels on an object with labels are added one by one, keys escaped', () => {
    const d = run({
      object: deployment('web', { labels: { app: 'web' } }),
      policies: [placement('p', { overrides: [{ clusters: ['eu'], labels: { 'a/b': 'c' } }] })],
      clusters,
    });
    expect(d.clusters.find((c) => c.name === 'eu')?.patch).toEqual([
      { op: 'add', path: '/metadata/labels/a~1b', value: 'c' },
    ]);
  });

  it('replicas override replaces the cluster share', () => {
    const d = run({
      object: deployment('web', { replicas: 4 }),
      policies: [placement('p', { overrides: [{ clusters: ['eu'], replicas: 1 }] })],
      clusters,
    });
    expect(Object.fromEntries(d.clusters.map((c) => [c.name, c.replicas]))).toEqual({ east: 4, eu: 1 });
  });
});

describe('default placement (no Placement in the workspace)', () => {
  const many = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => cluster(n));
  it('puts every object of a namespace on the same one cluster', () => {
    const picks = new Set(
      ['web', 'api', 'db', 'cache', 'queue'].map(
        (n) => names(run({ object: deployment(n, { namespace: 'shop' }), clusters: many }))[0],
      ),
    );
    expect(picks.size).toBe(1);
    expect(run({ object: configMap('cfg', 'shop'), clusters: many }).clusters.map((c) => c.name)).toEqual([...picks]);
  });
  it('spreads different namespaces over clusters', () => {
    const picks = new Set(
      Array.from(
        { length: 40 },
        (_, i) => names(run({ object: deployment('web', { namespace: `ns-${i}` }), clusters: many }))[0],
      ),
    );
    expect(picks.size).toBeGreaterThan(4);
  });
  it('prefers a healthy cluster', () => {
    const clusters = many.map((c) => ({ ...c, health: c.name === 'h' ? ('Healthy' as const) : ('Unknown' as const) }));
    expect(names(run({ clusters }))).toEqual(['h']);
  });
  it('skips cordoned and unhealthy clusters', () => {
    const d = run({
      clusters: [cluster('a', { unschedulable: true }), cluster('b', { health: 'Unhealthy' }), cluster('c')],
    });
    expect(names(d)).toEqual(['c']);
    expect(d.message).toContain('the default placement');
  });
});

describe('a namespace and its objects', () => {
  const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels },
  });
  const many = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => cluster(n));
  it('the default placement puts a Namespace where its objects go', () => {
    for (const name of ['default', 'shop', 'team-1']) {
      expect(names(run({ object: ns(name), clusters: many }))).toEqual(
        names(run({ object: deployment('web', { namespace: name }), clusters: many })),
      );
    }
  });
  it('a Namespace is selected by namespaceSelector on its own labels, not by objectSelectors', () => {
    const policies = [
      placement('team', { namespaceSelector: { matchLabels: { team: 'a' } } }),
      placement('deps', { objectSelectors: [{ group: 'apps', kind: 'Deployment' }] }),
    ];
    expect(
      decide({ object: ns('x', { team: 'a' }), policies, locations: [], clusters: many, options: { now: NOW } })
        .placement,
    ).toBe('team');
    expect(decide({ object: ns('y'), policies, locations: [], clusters: many, options: { now: NOW } }).reason).toBe(
      'NoMatchingPlacement',
    );
  });
  describe("a cluster-scoped object follows the workspace's work unless a Placement's objectSelectors name it", () => {
    const role: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'reader' },
    };
    const roles = placement('roles', {
      objectSelectors: [{ group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' }],
      numberOfClusters: 1,
    });
    it.each<[string, Placement[], string[] | undefined, string[], string]>([
      ['no Placement: every cluster running the work', [], ['b', 'd'], ['b', 'd'], '(workspace work)'],
      [
        'a namespace-wide Placement does not govern it',
        [placement('all')],
        ['a', 'c', 'e'],
        ['a', 'c', 'e'],
        '(workspace work)',
      ],
      ['no work yet: nowhere', [], [], [], '(workspace work)'],
      ['absent set counts as none', [], undefined, [], '(workspace work)'],
      ['objectSelectors naming the kind decide on their own', [roles], ['b', 'd'], ['e'], 'roles'],
    ])('%s', (_label, policies, workspaceClusters, expected, by) => {
      const d = decide({
        object: role,
        policies,
        locations: [],
        clusters: many,
        workspaceClusters,
        options: { now: NOW },
      });
      expect(names(d)).toEqual(expected);
      expect(d.placement).toBe(by);
      expect(d.scheduled).toBe(expected.length > 0);
    });
    it('explains the rule for the clusters it leaves out, and keeps it on a cluster cordoned after the work went there', () => {
      const clusters = [cluster('a', { unschedulable: true }), cluster('b'), cluster('c')];
      const d = decide({
        object: role,
        policies: [],
        locations: [],
        clusters,
        workspaceClusters: ['a', 'b'],
        options: { now: NOW },
      });
      expect(names(d)).toEqual(['a', 'b']);
      expect(d.message).toContain("the workspace's work");
      expect(d.explanation.find((e) => e.cluster === 'c')).toMatchObject({
        rejectedBy: 'workspace',
        detail: expect.stringContaining("the workspace's namespaces are placed on a, b"),
      });
      const none = decide({
        object: role,
        policies: [],
        locations: [],
        clusters,
        workspaceClusters: [],
        options: { now: NOW },
      });
      expect(none).toMatchObject({ scheduled: false, reason: 'Unschedulable' });
      expect(none.message).toContain("not running the workspace's namespaced work (no cluster yet)");
    });
  });
  describe('kinds that reach beyond one tenant go only where the SyncTarget allows them', () => {
    const webhook: KubeObject = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'policy' },
    };
    const binding = (role: string): KubeObject => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'b' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    });
    const priority: KubeObject = {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: 'urgent' },
    };
    const crd: KubeObject = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
    };
    const clusters = [
      cluster('a'),
      cluster('b', { allowedRiskyKinds: ['validatingwebhookconfiguration.admissionregistration.k8s.io'] }),
      cluster('c', { allowedRiskyKinds: ['*'] }),
      cluster('d', { allowedRiskyKinds: ['ClusterRoleBinding.rbac.authorization.k8s.io'] }),
    ];
    it.each<[string, KubeObject, string[]]>([
      ['a webhook configuration: where listed, or *', webhook, ['b', 'c']],
      ['a binding to cluster-admin: where ClusterRoleBindings are listed, or *', binding('cluster-admin'), ['c', 'd']],
      ['a binding to a system: role likewise', binding('system:controller:foo'), ['c', 'd']],
      ['a binding to an ordinary role: everywhere', binding('reader'), ['a', 'b', 'c', 'd']],
      ['a PriorityClass: only under *', priority, ['c']],
      ['a CRD is not risky: everywhere', crd, ['a', 'b', 'c', 'd']],
    ])('%s', (_label, object, expected) => {
      const d = decide({
        object,
        policies: [],
        locations: [],
        clusters,
        workspaceClusters: ['a', 'b', 'c', 'd'],
        options: { now: NOW },
      });
      expect(names(d)).toEqual(expected);
    });
    it('says which SyncTarget field to change, and keeps a copy placed before the kind left the list', () => {
      const none = decide({
        object: webhook,
        policies: [],
        locations: [],
        clusters: [cluster('a')],
        workspaceClusters: ['a'],
        options: { now: NOW },
      });
      expect(none).toMatchObject({ scheduled: false, reason: 'Unschedulable' });
      expect(none.message).toContain('does not allow ValidatingWebhookConfiguration.admissionregistration.k8s.io');
      // The Event and the Placed condition carry this message: it says what to change, not "heal a cluster".
      expect(none.message).toMatch(/add it to a SyncTarget's spec.allowedRiskyKinds to place it there$/);
      expect(none.explanation[0]).toMatchObject({
        rejectedBy: 'allowedRiskyKinds',
        detail: expect.stringContaining("SyncTarget a's spec.allowedRiskyKinds"),
      });
      const kept = decide({
        object: webhook,
        policies: [],
        locations: [],
        clusters: [cluster('a')],
        workspaceClusters: ['a'],
        previous: { clusters: [{ name: 'a' }] },
        options: { now: NOW },
      });
      expect(names(kept)).toEqual(['a']);
    });
  });
  it.each<[string, Placement[], string[], string[]]>([
    ['default placement: only where the namespace is, even where it ran before', [], ['c'], ['c']],
    [
      'namespace-wide Placement: the namespace clusters that pass the object filters',
      [placement('all')],
      ['b', 'c'],
      ['b', 'c'],
    ],
    [
      'a Placement with objectSelectors decides on its own',
      [placement('deps', { objectSelectors: [{ group: 'apps', kind: 'Deployment' }], numberOfClusters: 1 })],
      ['c'],
      ['a'],
    ],
  ])('%s', (_label, policies, namespaceClusters, expected) => {
    const d = decide({
      object: deployment('web'),
      policies,
      locations: [],
      clusters: many,
      namespaceClusters,
      previous: { clusters: [{ name: 'a', replicas: 1 }] },
      options: { now: NOW },
    });
    expect(names(d)).toEqual(expected);
    const off = d.explanation.find((e) => e.cluster === 'd');
    if (expected.includes('a')) expect(off?.rejectedBy).toBeUndefined();
    else
      expect(off).toMatchObject({
        rejectedBy: 'namespace',
        detail: `namespace default is placed on ${namespaceClusters.join(', ')}; its objects follow it`,
      });
  });
  it('an object follows its namespace onto a cluster cordoned after the namespace went there; capacity still counts', () => {
    const clusters = [
      cluster('a', { unschedulable: true, allocatable: { cpu: 8 } }),
      cluster('b', { allocatable: { cpu: 0.5 } }),
    ];
    expect(
      names(
        decide({
          object: deployment('web', { cpu: '1' }),
          policies: [placement('all')],
          locations: [],
          clusters,
          namespaceClusters: ['a', 'b'],
          options: { now: NOW },
        }),
      ),
    ).toEqual(['a']);
  });
});

describe('stability and determinism', () => {
  const clusters = ['a', 'b', 'c', 'd', 'e'].map((n) => cluster(n));
  it('same input gives the same decision', () => {
    const input: DecideInput = {
      object: deployment('web'),
      policies: [placement('p', { numberOfClusters: 2 })],
      locations: [],
      clusters,
      options: { now: NOW },
    };
    expect(decide(input)).toEqual(decide(input));
    expect(decide({ ...input, clusters: [...clusters].reverse() }).clusters).toEqual(decide(input).clusters);
  });
  it('a new better cluster does not reshuffle running work', () => {
    const policy = placement('p', { numberOfClusters: 1, strategy: 'Spread' });
    const busy = [cluster('a', { allocatable: { cpu: 10 }, allocated: { cpu: 5 } })];
    const first = run({ policies: [policy], clusters: busy });
    const second = run({
      policies: [policy],
      clusters: [...busy, cluster('new', { allocatable: { cpu: 10 } })],
      previous: first,
    });
    expect(names(second)).toEqual(['a']);
    expect(second.explanation.find((e) => e.cluster === 'a')?.scores?.stability).toBe(1000);
  });
  it('rebalance Always ignores where work runs today', () => {
    const busy = [
      cluster('a', { allocatable: { cpu: 10 }, allocated: { cpu: 5 } }),
      cluster('new', { allocatable: { cpu: 10 } }),
    ];
    const d = run({
      policies: [placement('p', { numberOfClusters: 1, rebalance: { policy: 'Always' } })],
      clusters: busy,
      previous: { clusters: [{ name: 'a' }] },
    });
    expect(names(d)).toEqual(['new']);
  });
  it('a new rebalance token rebalances once', () => {
    const busy = [
      cluster('a', { allocatable: { cpu: 10 }, allocated: { cpu: 5 } }),
      cluster('new', { allocatable: { cpu: 10 } }),
    ];
    const policy = placement('p', { numberOfClusters: 1, rebalance: { token: 't1' } });
    const once = run({ policies: [policy], clusters: busy, previous: { clusters: [{ name: 'a' }] } });
    expect(names(once)).toEqual(['new']);
    expect(once.rebalanceToken).toBe('t1');
    const again = run({
      policies: [policy],
      clusters: busy.map((c) => (c.name === 'a' ? { ...c, allocated: { cpu: 0 } } : c)),
      previous: once,
    });
    expect(names(again)).toEqual(['new']);
  });
  it('a cordoned cluster keeps placed work but takes no new work', () => {
    const clusters2 = [cluster('a', { unschedulable: true }), cluster('b')];
    expect(
      names(
        run({
          policies: [placement('p', { numberOfClusters: 1 })],
          clusters: clusters2,
          previous: { clusters: [{ name: 'a' }] },
        }),
      ),
    ).toEqual(['a']);
    expect(names(run({ policies: [placement('p', { numberOfClusters: 1 })], clusters: clusters2 }))).toEqual(['b']);
  });
  it('placed work waits out evictAfter on an Unhealthy cluster, then moves', () => {
    const sick = (since: number): ClusterInfo[] => [
      cluster('a', { health: 'Unhealthy', unhealthySince: since, evictAfterSeconds: 60 }),
      cluster('b'),
    ];
    const prev = { clusters: [{ name: 'a' }] };
    expect(
      names(run({ policies: [placement('p', { numberOfClusters: 1 })], clusters: sick(NOW - 30_000), previous: prev })),
    ).toEqual(['a']);
    expect(
      names(run({ policies: [placement('p', { numberOfClusters: 1 })], clusters: sick(NOW - 90_000), previous: prev })),
    ).toEqual(['b']);
  });
  it('growing numberOfClusters keeps the existing cluster and adds one', () => {
    const first = run({ policies: [placement('p', { numberOfClusters: 1 })], clusters });
    const second = run({ policies: [placement('p', { numberOfClusters: 2 })], clusters, previous: first });
    expect(names(second)).toContain(names(first)[0]);
    expect(second.clusters).toHaveLength(2);
  });
  it('equal scores are broken by a hash of the name, not alphabetically', () => {
    const many = Array.from({ length: 20 }, (_, i) => cluster(`c${String(i).padStart(2, '0')}`));
    const d = run({ policies: [placement('p', { numberOfClusters: 1 })], clusters: many });
    expect(d.clusters).toHaveLength(1);
    expect(names(run({ policies: [placement('p', { numberOfClusters: 1 })], clusters: [...many].reverse() }))).toEqual(
      names(d),
    );
  });
});

describe('unsatisfiable placements explain themselves', () => {
  it.each<[string, DecideInput['clusters'], Placement[], RegExp]>([
    [
      'regions and cordon',
      [
        regional('east', 'us-east-1'),
        regional('west', 'us-west-2'),
        regional('c', 'eu-west-1', 'z', 'aws', { unschedulable: true }),
      ],
      [placement('p', { clusterConstraints: { regions: ['eu-west-1'] } })],
      /^0\/3 clusters match: 2 rejected by clusterConstraints\.regions=\[eu-west-1\], 1 unschedulable \(cordoned\)\. Relax Placement p/,
    ],
    [
      'taints',
      [cluster('a', { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] })],
      [placement('p')],
      /0\/1 clusters match: 1 had untolerated taint \{gpu=true:NoSchedule\}/,
    ],
    [
      'capacity',
      [cluster('a', { allocatable: { cpu: 1 } })],
      [placement('p')],
      /0\/1 clusters match: 1 insufficient cpu/,
    ],
    ['no clusters at all', [], [placement('p')], /no SyncTarget is registered/],
    [
      'Location selector that selects no Location',
      [cluster('a')],
      [placement('p', { locationSelectors: [{ matchLabels: { geo: 'mars' } }] })],
      /no Location matches/,
    ],
  ])('%s', (_label, clusters, policies, message) => {
    const d = run({ object: deployment('web', { replicas: 3, cpu: '1' }), clusters, policies });
    expect(d.scheduled).toBe(false);
    expect(d.clusters).toEqual([]);
    expect(d.message).toMatch(message);
  });

  it('explains every cluster: rejected by which filter, or scored', () => {
    const d = run({
      clusters: [regional('east', 'us-east-1'), regional('eu', 'eu-west-1')],
      policies: [placement('p', { clusterConstraints: { regions: ['eu-west-1'] } })],
    });
    expect(d.explanation).toEqual([
      expect.objectContaining({
        cluster: 'east',
        chosen: false,
        rejectedBy: 'clusterConstraints.regions',
        detail: 'region us-east-1 not in [eu-west-1]',
      }),
      expect.objectContaining({ cluster: 'eu', chosen: true, scores: expect.objectContaining({ health: 0 }) }),
    ]);
  });

  it('a deleted object goes nowhere', () => {
    const obj = deployment('web');
    obj.metadata.deletionTimestamp = new Date(NOW).toISOString();
    const d = run({ object: obj, clusters: [cluster('a')] });
    expect(d).toMatchObject({ clusters: [], scheduled: false, reason: 'Deleted' });
  });
});
