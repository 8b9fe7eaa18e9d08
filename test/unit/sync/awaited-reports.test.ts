import type { ObjectRef } from '../../../lib/api/object-ref';
import type { ClusterStatusRecord } from '../../../lib/ports/status-store';
import type { SyncRecord } from '../../../lib/ports/sync-state-store';
import {
  awaitedReports,
  PROGRESS_EXPECTED_WITHIN_MS,
  REPORT_EXPECTED_WITHIN_MS,
} from '../../../lib/sync/status/awaited-reports';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const ref: ObjectRef = {
  workspace: 'root:org',
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'web',
  name: 'api',
};

const applied = (over: Partial<SyncRecord> = {}): SyncRecord => ({
  ref,
  cluster: 'east',
  state: 'applied',
  decisionVersion: 1,
  appliedGeneration: 2,
  downstreamGeneration: 5,
  updatedAt: ago(1000),
  appliedAt: ago(1000),
  ...over,
});
const report = (status: Record<string, unknown>, observedAgoMs = 500): ClusterStatusRecord => ({
  ref,
  cluster: 'east',
  status,
  resourceVersion: '10',
  observedAt: ago(observedAgoMs),
});
const progressing = { observedGeneration: 5, replicas: 2, updatedReplicas: 2, readyReplicas: 1 };
const settled = { observedGeneration: 5, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 };

describe("awaitedReports: is east's next report on its way?", () => {
  it.each<[string, { kind?: string; record?: SyncRecord; report?: ClusterStatusRecord; desired?: number }, boolean]>([
    ['no sync record yet: its apply is in flight', {}, true],
    [
      'pending, never failed: its apply is in flight',
      { record: applied({ state: 'pending', appliedAt: undefined }) },
      true,
    ],
    [
      'pending after a failure: nothing is on its way',
      {
        record: applied({
          state: 'pending',
          lastError: { category: 'network', message: 'x', hint: 'y', at: ago(1000) },
        }),
      },
      false,
    ],
    ['failed: nothing is on its way', { record: applied({ state: 'failed' }) }, false],
    ['conflict: nothing is on its way', { record: applied({ state: 'conflict' }) }, false],
    [
      'applied an older generation than kcp has: the new apply is in flight',
      { record: applied({ appliedGeneration: 1 }) },
      true,
    ],
    ['applied just now, not reported yet', { record: applied() }, true],
    [
      'applied just now, reported an older downstream generation',
      { record: applied(), report: report({ ...settled, observedGeneration: 4 }) },
      true,
    ],
    [
      'applied long ago and never reported: not waited for any more',
      { record: applied({ appliedAt: ago(REPORT_EXPECTED_WITHIN_MS + 1) }) },
      false,
    ],
    ['reported its rollout in progress just now', { record: applied(), report: report(progressing), desired: 2 }, true],
    [
      'reported its rollout in progress a while ago: not waited for any more',
      { record: applied(), report: report(progressing, PROGRESS_EXPECTED_WITHIN_MS + 1), desired: 2 },
      false,
    ],
    ['reported all pods ready', { record: applied(), report: report(settled), desired: 2 }, false],
    [
      'reported updated pods short of what it should run',
      { record: applied(), report: report({ ...settled, updatedReplicas: 1 }), desired: 2 },
      true,
    ],
    ['reported, desired replicas unknown', { record: applied(), report: report(progressing) }, false],
    [
      'a DaemonSet short of ready pods',
      {
        kind: 'DaemonSet',
        record: applied(),
        report: report({ observedGeneration: 5, desiredNumberScheduled: 3, numberReady: 1 }),
      },
      true,
    ],
    [
      'a DaemonSet with every pod ready',
      {
        kind: 'DaemonSet',
        record: applied(),
        report: report({ observedGeneration: 5, desiredNumberScheduled: 3, numberReady: 3 }),
      },
      false,
    ],
    [
      'a kind without a controller (ConfigMap), no sync record yet: its apply is in flight',
      { kind: 'ConfigMap' },
      true,
    ],
    [
      'a ConfigMap pending, never failed: its apply is in flight',
      { kind: 'ConfigMap', record: applied({ state: 'pending', appliedAt: undefined }) },
      true,
    ],
    [
      'a ConfigMap applied at an older generation: the new apply is in flight',
      { kind: 'ConfigMap', record: applied({ appliedGeneration: 1 }) },
      true,
    ],
    [
      'a ConfigMap applied just now: no report follows an apply of a kind without a controller',
      { kind: 'ConfigMap', record: applied() },
      false,
    ],
    [
      'a ConfigMap that failed: nothing is on its way',
      { kind: 'ConfigMap', record: applied({ state: 'failed' }) },
      false,
    ],
  ])('%s', (_name, { kind, record, report: stored, desired }, expected) => {
    const awaited = awaitedReports({
      kind: kind ?? 'Deployment',
      generation: 2,
      placed: ['east'],
      syncOf: new Map(record ? [['east', record]] : []),
      observedOf: new Map(stored ? [['east', stored]] : []),
      desiredReplicas: () => desired,
      now: NOW,
    });
    expect(awaited).toEqual(expected ? ['east'] : []);
  });

  it('names only the placed clusters still to report', () => {
    expect(
      awaitedReports({
        kind: 'Deployment',
        generation: 2,
        placed: ['east', 'west', 'north'],
        syncOf: new Map([
          ['east', applied()],
          ['west', applied({ cluster: 'west' })],
        ]),
        observedOf: new Map([['east', report(settled)]]),
        desiredReplicas: () => 2,
        now: NOW,
      }),
    ).toEqual(['west', 'north']);
  });
});
