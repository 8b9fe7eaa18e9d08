import {
  downstreamNamespace,
  MANAGED_BY_LABEL,
  SOURCE_ANNOTATION,
  SOURCE_UID_LABEL,
  WORKSPACE_ANNOTATION,
} from '../../../lib/api/labels';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import type { KubeObject } from '../../../lib/kube/object';
import type { DecisionStore, StoredDecision } from '../../../lib/ports/decision-store';
import { FAULT_KINDS, parseFaultKinds, RULE_FAULTS } from '../../../bench/chaos/fault-kinds';
import { planFaults, ruleFaultSettings } from '../../../bench/chaos/faults';
import { FaultSettingsSchema } from '../../../lib/sim/faults';
import { InvariantChecker, type Snapshot } from '../../../bench/chaos/invariants';
import { Prng } from '../../../bench/chaos/prng';
import { APP_LABEL, KINDS, OWNER_ANNOTATION, REVISION_ANNOTATION } from '../../../bench/chaos/workload';

/** The chaos suite's checker on hand-built snapshots: each invariant is shown to catch what it names. */

const CONFIGMAP = KINDS[0]!;
const DEPLOYMENT = KINDS[2]!;
const unusedStore: DecisionStore = {
  get: () => Promise.reject(new Error('not used')),
  getMany: () => Promise.reject(new Error('not used')),
  put: () => Promise.reject(new Error('not used')),
  listByWorkspace: () => Promise.reject(new Error('not used')),
};
const checker = (): InvariantChecker =>
  new InvariantChecker(
    'http://127.0.0.1:1',
    ['root:a', 'root:b'],
    { east: 'http://127.0.0.1:2', west: 'http://127.0.0.1:3' },
    unusedStore,
    30_000,
  );

function source(
  workspace: string,
  kind = CONFIGMAP,
  revision = '1',
  extra: Partial<KubeObject> = {},
): Snapshot['sources'] extends Map<string, infer S> ? S : never {
  const object: KubeObject = {
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    metadata: {
      name: 'app-0',
      namespace: 'shop',
      uid: `uid-${workspace}`,
      labels: { [APP_LABEL]: 'app-0' },
      annotations: { [REVISION_ANNOTATION]: revision, [OWNER_ANNOTATION]: workspace },
    },
    ...extra,
  };
  const ref: ObjectRef = {
    workspace,
    group: kind.gvr.group,
    version: kind.gvr.version,
    resource: kind.gvr.resource,
    kind: kind.kind,
    namespace: 'shop',
    name: 'app-0',
  };
  return { workspace, kind, object, ref, deleting: false };
}

function copyOf(
  s: ReturnType<typeof source>,
  cluster: string,
  overrides: { revision?: string; namespace?: string; owner?: string } = {},
): Snapshot['copies'][number] {
  return {
    cluster,
    kind: s.kind,
    object: {
      apiVersion: s.kind.apiVersion,
      kind: s.kind.kind,
      metadata: {
        name: 'app-0',
        namespace: overrides.namespace ?? downstreamNamespace(s.workspace, 'shop'),
        labels: { [MANAGED_BY_LABEL]: 'tmc', [SOURCE_UID_LABEL]: s.object.metadata.uid ?? '', [APP_LABEL]: 'app-0' },
        annotations: {
          [WORKSPACE_ANNOTATION]: s.workspace,
          [SOURCE_ANNOTATION]: JSON.stringify({
            group: s.kind.gvr.group,
            version: s.kind.gvr.version,
            resource: s.kind.gvr.resource,
            namespace: 'shop',
            name: 'app-0',
          }),
          [REVISION_ANNOTATION]: overrides.revision ?? s.object.metadata.annotations?.[REVISION_ANNOTATION] ?? '',
          [OWNER_ANNOTATION]: overrides.owner ?? s.workspace,
        },
      },
    },
  };
}

function decision(s: ReturnType<typeof source>, clusters: string[]): StoredDecision {
  return {
    ref: s.ref,
    decisionVersion: 1,
    generation: 1,
    contentHash: 'h',
    clusters: clusters.map((name) => ({ name })),
    scheduled: clusters.length > 0,
    reason: 'Scheduled',
    message: '',
    explanation: [],
    explanationOmitted: 0,
    weights: {},
    diff: { added: clusters, removed: [], changed: [], unchanged: [] },
    decidedAt: '2026-12-06T00:00:00Z',
  };
}

function snapshot(
  sources: Array<ReturnType<typeof source>>,
  copies: Snapshot['copies'],
  decisions: Array<[ReturnType<typeof source>, string[]]>,
): Snapshot {
  return {
    sources: new Map(sources.map((s) => [`${s.workspace}|${s.kind.gvr.resource}|shop|app-0`, s])),
    copies,
    unreadable: [],
    decisions: new Map(decisions.map(([s, clusters]) => [objectKey(s.ref), decision(s, clusters)])),
    terminatingNamespaces: [],
  };
}

describe('chaos invariant checker', () => {
  const a = source('root:a');
  const b = source('root:b');

  it('finds nothing when both workspaces have their copies where their decisions say', () => {
    const snap = snapshot(
      [a, b],
      [copyOf(a, 'east'), copyOf(a, 'west'), copyOf(b, 'east'), copyOf(b, 'west')],
      [
        [a, ['east', 'west']],
        [b, ['east', 'west']],
      ],
    );
    expect(checker().evaluate(snap)).toEqual([]);
  });

  it.each([
    ['missing-copy', snapshot([a], [copyOf(a, 'east')], [[a, ['east', 'west']]]), 'west'],
    [
      'stale-copy',
      snapshot([a], [copyOf(a, 'east'), copyOf(a, 'west', { revision: '0' })], [[a, ['east', 'west']]]),
      'west',
    ],
    ['unplaced', snapshot([a], [copyOf(a, 'east')], [[a, ['east']]]), undefined],
    ['leftover', snapshot([], [copyOf(a, 'east')], []), 'east'],
    [
      'duplicate',
      snapshot([a], [copyOf(a, 'east'), copyOf(a, 'west'), copyOf(a, 'edge')], [[a, ['east', 'west']]]),
      'edge',
    ],
    [
      'isolation',
      snapshot(
        [a, b],
        [copyOf(a, 'east'), copyOf(a, 'west'), copyOf(b, 'east', { owner: 'root:a' }), copyOf(b, 'west')],
        [
          [a, ['east', 'west']],
          [b, ['east', 'west']],
        ],
      ),
      'east',
    ],
  ])('reports %s', (kind, snap, cluster) => {
    const found = checker().evaluate(snap);
    expect(found.map((v) => v.kind)).toEqual([kind]);
    expect(found[0]).toMatchObject({ resource: 'configmaps', name: 'app-0', ...(cluster ? { cluster } : {}) });
  });

  it('reports a status lie only once it outlasts the grace', () => {
    const available = source('root:a', DEPLOYMENT, '1', {
      status: { conditions: [{ type: 'Available', status: 'True' }] },
    });
    const snap = snapshot([available], [copyOf(available, 'east')], [[available, ['east', 'west']]]);
    const c = checker();
    const found = c.evaluate(snap, 0);
    expect(found.map((v) => v.kind).sort()).toEqual(['missing-copy', 'status-lie']);
    expect(c.persistentStatusLies(found, 0)).toEqual([]);
    expect(c.persistentStatusLies(found, 31_000)).toHaveLength(1);
    // Reported once per object.
    expect(c.persistentStatusLies(found, 60_000)).toEqual([]);
  });

  it('counts an object being deleted, and each copy it still has, until its delete completes', () => {
    const deleting = { ...a, deleting: true };
    expect(
      checker()
        .evaluate(snapshot([deleting], [], [[deleting, ['east', 'west']]]))
        .map((v) => v.kind),
    ).toEqual(['deletion-pending']);
    expect(
      checker()
        .evaluate(snapshot([deleting], [copyOf(a, 'east')], []))
        .map((v) => v.kind),
    ).toEqual(['deletion-pending', 'leftover']);
  });

  it('counts a kcp namespace still Terminating, even once its workload objects are gone', () => {
    const stuck = { ...snapshot([], [], []), terminatingNamespaces: [{ workspace: 'root:b', name: 'shop' }] };
    expect(checker().evaluate(stuck)).toEqual([
      expect.objectContaining({ kind: 'deletion-pending', workspace: 'root:b', resource: 'namespaces', name: 'shop' }),
    ]);
  });
});

describe('chaos fault plan', () => {
  const options = {
    durationMs: 120_000,
    kinds: FAULT_KINDS,
    clusters: ['east', 'west', 'edge'],
    workspaces: ['root:a', 'root:b'],
    evictAfterMs: 10_000,
  };

  it('is fixed by the seed', () => {
    expect(planFaults(new Prng(7), options)).toEqual(planFaults(new Prng(7), options));
    expect(planFaults(new Prng(7), options)).not.toEqual(planFaults(new Prng(8), options));
  });

  it('keeps every fault inside the phase, one at a time', () => {
    const plan = planFaults(new Prng(42), options);
    expect(plan.length).toBeGreaterThan(2);
    for (const [i, fault] of plan.entries()) {
      expect(fault.at + fault.durationMs).toBeLessThanOrEqual(options.durationMs);
      if (i > 0) expect(fault.at).toBeGreaterThan(plan[i - 1]!.at + plan[i - 1]!.durationMs);
    }
  });

  it('packs the same deal at a pace: durations and gaps scaled, an outage still past evictAfter', () => {
    const full = planFaults(new Prng(42), { ...options, durationMs: 600_000 });
    // Packed, more faults fit in the phase: the first ones are the same deal.
    const packed = planFaults(new Prng(42), { ...options, durationMs: 600_000, pace: 0.4 }).slice(0, full.length);
    expect(packed.map((f) => [f.kind, f.target])).toEqual(full.map((f) => [f.kind, f.target]));
    for (const [i, fault] of packed.entries()) {
      if (fault.kind === 'cluster-outage') {
        expect(fault.durationMs).toBeGreaterThan(options.evictAfterMs);
        expect(fault.durationMs - options.evictAfterMs).toBeLessThan(full[i]!.durationMs - options.evictAfterMs);
      } else expect(fault.durationMs).toBe(Math.max(500, Math.round(full[i]!.durationMs * 0.4)));
    }
    expect(packed.at(-1)!.at).toBeLessThan(full.at(-1)!.at * 0.5);
  });

  it('deals every kind once before any kind repeats', () => {
    const kinds = ['empty-list', 'get-404', 'placement-list-503', 'resource-429', 'webhook-loss', 'crash'] as const;
    for (const seed of [1, 2, 3]) {
      const plan = planFaults(new Prng(seed), { ...options, kinds, durationMs: 600_000 });
      expect(plan.length).toBeGreaterThanOrEqual(2 * kinds.length);
      expect(new Set(plan.slice(0, kinds.length).map((f) => f.kind))).toEqual(new Set(kinds));
      expect(new Set(plan.slice(kinds.length, 2 * kinds.length).map((f) => f.kind))).toEqual(new Set(kinds));
    }
  });

  it('aims each rule fault at tmc’s requests only', () => {
    const username = 'system:serviceaccount:tmc-system:tmc';
    expect(
      ruleFaultSettings({ kind: 'empty-list', at: 0, durationMs: 1, target: 'apps/deployments', workspace: 'root:b' }),
    ).toEqual({
      rules: [
        {
          match: { verb: 'list', group: 'apps', resource: 'deployments', username, logicalCluster: 'root:b' },
          respond: 'empty',
        },
      ],
    });
    expect(ruleFaultSettings({ kind: 'get-404', at: 0, durationMs: 1, target: '/configmaps' })).toEqual({
      rules: [
        { match: { verb: 'get', group: '', resource: 'configmaps', username }, respond: 404 },
        { match: { verb: 'get', group: '', resource: 'secrets', username }, respond: 404 },
      ],
    });
    expect(ruleFaultSettings({ kind: 'get-404', at: 0, durationMs: 1, target: '/secrets' }).rules).toHaveLength(1);
    expect(ruleFaultSettings({ kind: 'resource-429', at: 0, durationMs: 1, target: 'chaos.tmc.dev/widgets' })).toEqual({
      rules: [{ match: { group: 'chaos.tmc.dev', resource: 'widgets', username }, respond: 429, retryAfterSeconds: 2 }],
    });
    for (const [target, respond] of [
      ['503', 503],
      ['429', 429],
      ['hang', 'hang'],
    ] as const) {
      expect(ruleFaultSettings({ kind: 'placement-list-503', at: 0, durationMs: 1, target })).toMatchObject({
        rules: [{ match: { verb: 'list', group: 'scheduling.kcp.io', username }, respond }],
      });
    }
  });

  it('takes the rules the simulator accepts', () => {
    const plan = planFaults(new Prng(5), { ...options, kinds: RULE_FAULTS, durationMs: 300_000 });
    expect(plan.length).toBeGreaterThan(RULE_FAULTS.length);
    for (const fault of plan) expect(FaultSettingsSchema.safeParse(ruleFaultSettings(fault)).success).toBe(true);
  });
});

describe('--faults', () => {
  it.each([
    ['none', []],
    ['crash, webhook-loss', ['crash', 'webhook-loss']],
    ['environment-restart', ['environment-restart']],
    ['crash,nope', undefined],
  ])('%s', (value, expected) => {
    expect(parseFaultKinds(value)).toEqual(expected);
  });
});
