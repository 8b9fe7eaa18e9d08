import type { SyncRecord } from '../../../lib/ports/sync-state-store';
import { clusterDetail, sameDetail, syncedCondition } from '../../../lib/sync/status/cluster-detail';

const ref = {
  workspace: 'root:a',
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespace: 'default',
  name: 'c',
};
const record = (over: Partial<SyncRecord>): SyncRecord => ({
  ref,
  cluster: 'east',
  state: 'applied',
  decisionVersion: 1,
  appliedGeneration: 2,
  updatedAt: 't0',
  appliedAt: 't0',
  ...over,
});
const err = (
  category: SyncRecord['lastError'] extends infer E ? (E extends { category: infer C } ? C : never) : never,
): SyncRecord['lastError'] => ({
  category,
  message: 'Boom',
  hint: 'Fix it',
  at: 't1',
});

describe('syncedCondition', () => {
  it.each<[string, SyncRecord | undefined, string, string]>([
    ['no record yet', undefined, 'Unknown', 'Pending'],
    ['applied', record({}), 'True', 'Applied'],
    ['deleted', record({ state: 'deleted' }), 'False', 'Deleted'],
    ['conflict', record({ state: 'conflict', lastError: err('sync-conflict') }), 'False', 'SyncConflict'],
    ['throttled', record({ state: 'failed', lastError: err('cluster-throttled') }), 'False', 'ClusterThrottled'],
    ['422', record({ state: 'failed', lastError: err('resource-validation') }), 'False', 'ResourceValidation'],
    ['401', record({ state: 'failed', lastError: err('cluster-authentication') }), 'False', 'ClusterAuthentication'],
  ])('%s → %s/%s', (_n, r, status, reason) => {
    expect(syncedCondition(r)).toMatchObject({ type: 'Synced', status, reason });
  });

  it('puts the error and its hint in the message', () => {
    expect(syncedCondition(record({ state: 'failed', lastError: err('resource-validation') })).message).toBe(
      'Boom. Fix it',
    );
  });
});

describe('sameDetail', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const observed = { ref, cluster: 'east', status: { a: 1 }, resourceVersion: '5', observedAt: '2026-01-01T00:00:00Z' };
  const detail = clusterDetail('east', record({}), observed, now);
  it.each<[string, string | undefined, boolean]>([
    ['absent', undefined, false],
    ['not JSON', '{', false],
    ['identical', JSON.stringify(detail), true],
    ['only age and observedAt differ', JSON.stringify({ ...detail, age: '3s', observedAt: 'later' }), true],
    ['status differs', JSON.stringify({ ...detail, status: { a: 2 } }), false],
    ['state differs', JSON.stringify({ ...detail, state: 'failed' }), false],
  ])('%s → %s', (_n, current, same) => expect(sameDetail(current, detail)).toBe(same));

  it('reports the age of the observation', () => expect(detail.age).toBe('10m'));
});
