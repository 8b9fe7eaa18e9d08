import type { ObjectRef } from '../../../lib/api/object-ref';
import type { StoredDecision } from '../../../lib/ports/decision-store';
import { syncRecordKey, type SyncRecord } from '../../../lib/ports/sync-state-store';
import { strayCopies } from '../../../lib/recovery/stray-copies';
import * as build from '../../support/builders';

const WS = 'root:strays';
const CONFIG_MAP = build.ref(WS, build.TYPES.configmaps, 'app-config', 'shop');
const CLUSTER_ROLE: ObjectRef = {
  workspace: WS,
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  resource: 'clusterroles',
  kind: 'ClusterRole',
  name: 'auditor',
};
const NAMESPACE: ObjectRef = build.ref(WS, build.TYPES.namespaces, 'shop');

const decided = (ref: ObjectRef, extra: Partial<StoredDecision> = {}): StoredDecision =>
  build.storedDecision(ref, ['west'], {
    decisionVersion: 2,
    explanation: [
      { cluster: 'west', chosen: true, total: 1 },
      { cluster: 'east', chosen: false, rejectedBy: 'placement', total: 0 },
    ],
    diff: { added: [], removed: [], changed: [], unchanged: ['west'] },
    ...extra,
  });

const record = (ref: ObjectRef, cluster: string, state: SyncRecord['state'] = 'applied'): SyncRecord => ({
  ref,
  cluster,
  state,
  decisionVersion: 1,
  appliedGeneration: 1,
  updatedAt: '2026-01-01T00:00:00Z',
  ...(state === 'applied' ? { appliedAt: '2026-01-01T00:00:00Z' } : {}),
});

describe('strayCopies: copies recorded on a cluster their decision neither names nor just removed', () => {
  it.each<[string, ObjectRef, Partial<StoredDecision>, SyncRecord['state'] | undefined, string[]]>([
    ['a namespaced dependency left on east', CONFIG_MAP, {}, 'applied', ['east']],
    ['a cluster-scoped object whose delete from east was lost', CLUSTER_ROLE, {}, 'applied', ['east']],
    ['a downstream namespace left on east', NAMESPACE, {}, 'applied', ['east']],
    ['no copy recorded on east', CLUSTER_ROLE, {}, undefined, []],
    ['a copy already deleted', CLUSTER_ROLE, {}, 'deleted', []],
    [
      'east removed by the last change (decisionGaps sends that delete)',
      CLUSTER_ROLE,
      { diff: { added: ['west'], removed: ['east'], changed: [], unchanged: [] } },
      'applied',
      [],
    ],
    [
      'east rejected for health (a failover cleanup may be waiting)',
      CLUSTER_ROLE,
      {
        explanation: [
          { cluster: 'west', chosen: true, total: 1 },
          { cluster: 'east', chosen: false, rejectedBy: 'health', total: 0 },
        ],
      },
      'applied',
      [],
    ],
    [
      'east left out of a compacted explanation',
      CLUSTER_ROLE,
      { explanation: [], explanationOmitted: 1 },
      'applied',
      [],
    ],
  ])('%s', (_what, ref, extra, state, expected) => {
    const records = new Map<string, SyncRecord | undefined>([
      [syncRecordKey(ref, 'east'), state ? record(ref, 'east', state) : undefined],
      [syncRecordKey(ref, 'west'), record(ref, 'west')],
    ]);
    const found = strayCopies(decided(ref, extra), records, ['east', 'west']);
    expect(found.map((s) => s.cluster)).toEqual(expected);
  });
});
