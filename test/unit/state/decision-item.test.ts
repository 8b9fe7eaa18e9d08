import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  DecisionItemSchema,
  decodeDecision,
  encodeDecision,
  storedMessage,
  storedSent,
} from '../../../lib/adapters/dynamodb/decision-item';
import { decisionView } from '../../../lib/adapters/dynamodb/sync-state-store';
import { decide, type ClusterExplanation, type ClusterInfo, type Decision } from '../../../lib/placement';
import { diffDecisions } from '../../../lib/placement/diff';
import { formatExplanation } from '../../../lib/placement/explain-format';
import { compactExplanation } from '../../../lib/placement/reconcile';
import type { StoredDecision } from '../../../lib/ports/decision-store';
import { itemSize } from '../../../bench/support/item-size';
import * as build from '../../support/builders';
import { cluster, deployment, NOW, placement, regional } from '../placement/fixtures';

const REF = build.ref('root:test', build.TYPES.deployments, 'web');

/** What DynamoDB gives back for an item: JSON's values (no undefined, no -0), map keys in no promised order. */
const throughDynamo = (item: Record<string, unknown>): Record<string, unknown> =>
  JSON.parse(JSON.stringify(item, (_, value: unknown) => (isPlainMap(value) ? shuffled(value) : value)));
const isPlainMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const shuffled = (map: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(map).reverse());

/** An item as DynamoDB types it (what bench/support/item-size.ts sizes), from its JSON: no undefined, no sets. */
function typed(item: Record<string, unknown>): Record<string, AttributeValue> {
  const value = (v: unknown): AttributeValue =>
    typeof v === 'string'
      ? { S: v }
      : typeof v === 'number'
        ? { N: String(v) }
        : typeof v === 'boolean'
          ? { BOOL: v }
          : Array.isArray(v)
            ? { L: v.map(value) }
            : isPlainMap(v)
              ? { M: typed(v) }
              : { NULL: true };
  const json: Record<string, unknown> = JSON.parse(JSON.stringify(item));
  return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, value(v)]));
}

const roundTrip = (d: StoredDecision): StoredDecision =>
  decodeDecision(DecisionItemSchema.parse(throughDynamo(encodeDecision(d))));

/** The decision placement records for `decision` after `previous` (lib/placement/reconcile.ts's recordDecision). */
function stored(decision: Decision, previous?: StoredDecision, sent?: string[]): StoredDecision {
  const compact = compactExplanation(decision.explanation);
  const diff = diffDecisions(previous?.clusters, decision.clusters);
  const applies = sent ?? [...diff.added, ...diff.changed].map((c) => `apply ${c}`);
  return {
    ref: REF,
    decisionVersion: (previous?.decisionVersion ?? 0) + 1,
    generation: 1,
    resourceVersion: '7',
    uid: 'uid-web',
    contentHash: 'sha256:abc',
    clusters: decision.clusters,
    scheduled: decision.scheduled,
    reason: decision.reason,
    message: decision.message,
    placement: decision.placement,
    explanation: compact.explanation,
    explanationOmitted: compact.omitted,
    weights: decision.weights,
    diff,
    rebalanceToken: decision.rebalanceToken,
    ...(decision.replicaMode ? { replicaMode: decision.replicaMode } : {}),
    decidedAt: '2025-01-01T00:00:00.000Z',
    traceId: 't-1',
    ...(applies.length ? { sent: [...applies, ...diff.removed.map((c) => `delete ${c}`)].join(', ') } : {}),
    receivedAt: '2025-01-01T00:00:00.000Z',
    receivedReason: 'event',
    fingerprint: 'fp',
  };
}

/** `cluster-1` … in the order the inventory lists them (by name, as the decision's clusters are sorted). */
const numbered = (count: number, over: (i: number) => Partial<ClusterInfo> = () => ({})): ClusterInfo[] =>
  Array.from({ length: count }, (_, i) => cluster(`cluster-${i + 1}`, over(i))).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  );
const placed = (clusters: ClusterInfo[], policy = placement('all'), previous?: StoredDecision): Decision =>
  decide({
    object: deployment('web', { replicas: 4 }),
    policies: [policy],
    locations: [],
    clusters,
    previous,
    options: { now: NOW },
  });
const byDefault = (clusters: ClusterInfo[]): Decision =>
  decide({ object: deployment('web'), policies: [], locations: [], clusters, options: { now: NOW } });
const mixed = numbered(50, (i) => ({
  ...(i % 5 === 1 ? { unschedulable: true } : {}),
  ...(i % 7 === 2 ? { health: 'Unhealthy' as const, unhealthySince: NOW - 1000 } : {}),
  ...(i % 11 === 3 ? { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' as const }] } : {}),
  labels: { 'topology.kubernetes.io/region': i % 2 ? 'us-west-2' : 'us-east-1' },
}));

const first = stored(placed(numbered(50)));
const moved = stored(
  placed(
    numbered(50).slice(5).concat(numbered(55).slice(50)),
    placement('all', { replicas: { mode: 'Divided' } }),
    first,
  ),
  first,
);

describe('the stored decision reads back exactly as written', () => {
  it.each<[string, StoredDecision]>([
    ['a Placement over 50 clusters, all chosen', first],
    ['the default placement over 50 clusters (a score per cluster, one chosen)', stored(byDefault(numbered(50)))],
    [
      'rejections of several kinds and divided replicas',
      stored(
        placed(
          mixed,
          placement('some', {
            clusterConstraints: { regions: ['us-east-1'] },
            replicas: { mode: 'Divided' },
            numberOfClusters: 5,
          }),
        ),
      ),
    ],
    ['a move: clusters added, removed and changed', moved],
    ['a removal', { ...stored(placed([])), clusters: [], diff: diffDecisions(first.clusters, []), sent: 'delete x' }],
    ['placed nowhere', stored(placed(numbered(3, () => ({ unschedulable: true }))))],
    ['over 100 clusters (a compacted explanation)', stored(placed(numbered(150)))],
    ['three regional clusters', stored(placed([regional('east', 'us-east-1'), regional('west', 'us-west-2')]))],
  ])('%s', (_, decision) => {
    const read = roundTrip(decision);
    expect(read).toEqual(decision);
    expect(formatExplanation(read)).toBe(formatExplanation(decision));
    expect(JSON.stringify(read.weights)).toBe(JSON.stringify(decision.weights));
    expect(storedSent(encodeDecision(decision))).toBe(decision.sent);
    expect(decisionView(throughDynamo(encodeDecision(decision))).message).toBe(decision.message);
  });

  it('names each cluster once when the clusters chosen are the clusters explained', () => {
    const item = encodeDecision(first);
    expect(Object.keys(item)).toEqual(expect.arrayContaining(['explained', 'changes', 'sentAs', 'messageAround']));
    expect(Object.keys(item)).not.toEqual(
      expect.arrayContaining(['explanation', 'diff', 'sent', 'message', 'weights']),
    );
    const names = JSON.stringify(item).match(/cluster-1\b/g);
    expect(names).toHaveLength(1);
  });

  it.each<{ what: string; decision: StoredDecision; limit: number; before: number }>([
    // The item's bytes at most, keys and index attributes included; `before`: at least, as every field was stored.
    { what: 'a Placement over 50 clusters', decision: first, limit: 2400, before: 10_000 },
    {
      what: 'the default placement over 50 clusters',
      decision: stored(byDefault(numbered(50))),
      limit: 1800,
      before: 8_500,
    },
    { what: 'a Placement over 3 clusters', decision: stored(placed(numbered(3))), limit: 1000, before: 1_024 },
  ])('$what is stored in at most $limit bytes (before: over $before)', ({ decision, limit, before }) => {
    const item = {
      ...encodeDecision(decision),
      pk: `OBJ#${'root:test|apps|deployments|default|web'}`,
      sk: 'DECISION',
      gsi1pk: 'DECISIONS#root:test',
      gsi1sk: 'root:test|apps|deployments|default|web',
      rvNumber: 7,
      schemaVersion: 3,
    };
    expect(itemSize(typed(item))).toBeLessThanOrEqual(limit);
    const plain = { ...item, ...decision };
    expect(itemSize(typed(plain))).toBeGreaterThan(before);
  });
});

describe('a field that would not read back exactly is stored as it is', () => {
  it('an explanation of more kinds of cluster than one digit names', () => {
    const explanation: ClusterExplanation[] = Array.from({ length: 40 }, (_, i) => ({
      cluster: `c${i}`,
      chosen: false,
      rejectedBy: 'taints',
      detail: `taint t${i} not tolerated`,
      total: 0,
    }));
    const decision = { ...first, explanation };
    const item = encodeDecision(decision);
    expect(item.explanation).toEqual(explanation);
    expect(item).not.toHaveProperty('explained');
    expect(roundTrip(decision)).toEqual(decision);
  });

  it('a total that is not its scores sum, weights of another engine, a message and sent work of their own', () => {
    const [e, ...rest] = first.explanation;
    const decision: StoredDecision = {
      ...first,
      explanation: [{ ...e, total: e.total + 0.5 }, ...rest],
      weights: { ...first.weights, headroom: 2 },
      message: 'Placed on cluster-1 by hand',
      sent: 'apply cluster-1',
    };
    const item = encodeDecision(decision);
    expect(item).toMatchObject({ weights: decision.weights, message: decision.message, sent: 'apply cluster-1' });
    expect(item).toHaveProperty('explained.totals');
    expect(roundTrip(decision)).toEqual(decision);
  });
});

describe('items of earlier releases', () => {
  it('a decision stored with every field as it is reads as it did', () => {
    // As the store wrote it before decisions were compact: the decision's own fields, the keys and rvNumber.
    const item = {
      ...moved,
      pk: 'OBJ#root:test|apps|deployments|default|web',
      sk: 'DECISION',
      rvNumber: 7,
      gsi1pk: 'DECISIONS#root:test',
      gsi1sk: 'root:test|apps|deployments|default|web',
      schemaVersion: 2,
    };
    const read = decodeDecision(DecisionItemSchema.parse(throughDynamo(item)));
    expect(read).toEqual(moved);
    expect(storedSent(item)).toBe(moved.sent);
    expect(storedMessage(item, [])).toBe(moved.message);
    expect(decisionView(item).message).toBe(moved.message);
  });
});

describe('the stored format', () => {
  // Written by hand: items already in a table must read the same after any change to the code.
  it('reads a compact item as the decision it stores', () => {
    const item = {
      ref: REF,
      decisionVersion: 2,
      generation: 3,
      contentHash: 'h',
      clusters: [
        { name: 'east', replicas: 2 },
        { name: 'west', replicas: 1 },
      ],
      scheduled: true,
      reason: 'Scheduled',
      messageAround: ['Placed on ', ' by Placement p; 2/3 clusters match'],
      placement: 'p',
      explained: {
        clusters: ['east', 'eu', 'west'],
        kinds: [
          { chosen: true, scored: true },
          {
            chosen: false,
            rejectedBy: 'clusterConstraints.regions',
            detail: 'region eu-west-1 not in [us]',
            scored: false,
          },
        ],
        kindOf: '010',
        scores: {
          health: 0,
          affinity: [5, 0],
          strategy: 0,
          headroom: 50,
          taints: 0,
          namespaceHash: 0,
          stability: 1000,
        },
      },
      changes: { added: ['west'], removed: ['gone'] },
      decidedAt: '2025-01-01T00:00:00.000Z',
      sentAs: 'changes+removed',
      rvNumber: 12,
      schemaVersion: 3,
    };
    const decision = decodeDecision(DecisionItemSchema.parse(item));
    expect(decision).toEqual({
      ref: REF,
      decisionVersion: 2,
      generation: 3,
      contentHash: 'h',
      clusters: item.clusters,
      scheduled: true,
      reason: 'Scheduled',
      message: 'Placed on east, west by Placement p; 2/3 clusters match',
      placement: 'p',
      explanation: [
        {
          cluster: 'east',
          chosen: true,
          scores: { health: 0, affinity: 5, strategy: 0, headroom: 50, taints: 0, namespaceHash: 0, stability: 1000 },
          total: 1055,
        },
        {
          cluster: 'eu',
          chosen: false,
          rejectedBy: 'clusterConstraints.regions',
          detail: 'region eu-west-1 not in [us]',
          total: 0,
        },
        {
          cluster: 'west',
          chosen: true,
          scores: { health: 0, affinity: 0, strategy: 0, headroom: 50, taints: 0, namespaceHash: 0, stability: 1000 },
          total: 1050,
        },
      ],
      explanationOmitted: 0,
      weights: {
        affinity: 1,
        strategy: 1,
        headroom: 0.5,
        taints: 1,
        health: 1,
        stability: 1,
        namespaceHash: 1,
        stabilityBonus: 1000,
      },
      diff: { added: ['west'], removed: ['gone'], changed: [], unchanged: ['east'] },
      decidedAt: '2025-01-01T00:00:00.000Z',
      sent: 'apply west, delete gone',
    });
    expect(storedSent(item)).toBe('apply west, delete gone');
    expect(decisionView(item).message).toBe('Placed on east, west by Placement p; 2/3 clusters match');
    // …and a decision of that shape is stored so.
    const { rvNumber: _rv, schemaVersion: _v, ...attributes } = item;
    expect(encodeDecision(decision)).toEqual(attributes);
  });
});
