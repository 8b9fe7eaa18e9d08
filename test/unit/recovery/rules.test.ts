import type { ClusterInfo } from '../../../lib/placement/types';
import {
  absenceConfirmed,
  copyReady,
  DEFAULT_GUARD,
  deletionsSuspicious,
  evacuationReason,
  isStuck,
} from '../../../lib/recovery/rules';
import { containsDesired } from '../../../lib/recovery/resync';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const cluster = (over: Partial<ClusterInfo>): ClusterInfo => ({
  name: 'east',
  labels: {},
  taints: [],
  unschedulable: false,
  health: 'Healthy',
  ...over,
});

describe('evacuationReason', () => {
  it.each<[string, Partial<ClusterInfo>, boolean]>([
    ['healthy', {}, false],
    ['degraded', { health: 'Degraded' }, false],
    ['unknown (never probed)', { health: 'Unknown' }, false],
    ['unhealthy within the default 300 s', { health: 'Unhealthy', unhealthySince: NOW - 299_000 }, false],
    ['unhealthy past the default 300 s', { health: 'Unhealthy', unhealthySince: NOW - 300_000 }, true],
    [
      'unhealthy past its own evictAfter',
      { health: 'Unhealthy', unhealthySince: NOW - 10_000, evictAfterSeconds: 5 },
      true,
    ],
    ['unhealthy with evictAfter 0', { health: 'Unhealthy', unhealthySince: NOW, evictAfterSeconds: 0 }, true],
    ['tainted NoExecute', { taints: [{ key: 'maintenance', effect: 'NoExecute' }] }, true],
    ['tainted NoSchedule', { taints: [{ key: 'maintenance', effect: 'NoSchedule' }] }, false],
  ])('%s → %s', (_name, over, due) => {
    expect(evacuationReason(cluster(over), NOW) !== undefined).toBe(due);
  });
});

describe('copyReady', () => {
  it.each<[string, string, string | undefined, Record<string, unknown> | undefined, number | undefined, boolean]>([
    ['not applied', 'Deployment', 'pending', { readyReplicas: 2 }, 2, false],
    ['no sync record', 'ConfigMap', undefined, undefined, undefined, false],
    ['applied ConfigMap', 'ConfigMap', 'applied', undefined, undefined, true],
    ['Deployment without status', 'Deployment', 'applied', undefined, 2, false],
    ['Deployment 1 of 2 ready', 'Deployment', 'applied', { readyReplicas: 1 }, 2, false],
    ['Deployment 2 of 2 ready', 'Deployment', 'applied', { readyReplicas: 2 }, 2, true],
    [
      'duplicated Deployment, all of status.replicas ready',
      'Deployment',
      'applied',
      { replicas: 3, readyReplicas: 3 },
      undefined,
      true,
    ],
    [
      'duplicated Deployment, short of status.replicas',
      'Deployment',
      'applied',
      { replicas: 3, readyReplicas: 2 },
      undefined,
      false,
    ],
    [
      'DaemonSet all scheduled ready',
      'DaemonSet',
      'applied',
      { desiredNumberScheduled: 3, numberReady: 3 },
      undefined,
      true,
    ],
    ['DaemonSet short', 'DaemonSet', 'applied', { desiredNumberScheduled: 3, numberReady: 1 }, undefined, false],
  ])('%s', (_name, kind, state, status, replicas, ready) => {
    expect(copyReady(kind, state ? { state: state as 'applied' } : undefined, status, replicas)).toBe(ready);
  });
});

describe('isStuck', () => {
  const at = (secondsAgo: number): string => new Date(NOW - secondsAgo * 1000).toISOString();
  it.each<[string, Parameters<typeof isStuck>[0], boolean]>([
    ['applied', { state: 'applied', updatedAt: at(3600) }, false],
    ['pending, recent', { state: 'pending', updatedAt: at(10) }, false],
    ['pending, old', { state: 'pending', updatedAt: at(301) }, true],
    [
      'failed on a 503, old',
      {
        state: 'failed',
        updatedAt: at(400),
        lastError: { category: 'cluster-unavailable', message: '503', hint: '', at: at(400) },
      },
      true,
    ],
    [
      'failed on a 401, old: waits for a person',
      {
        state: 'failed',
        updatedAt: at(400),
        lastError: { category: 'cluster-authentication', message: '401', hint: '', at: at(400) },
      },
      false,
    ],
    ['conflict: waits for a person', { state: 'conflict', updatedAt: at(400) }, false],
    ['deleted', { state: 'deleted', updatedAt: at(4000) }, false],
  ])('%s → %s', (_name, record, stuck) => {
    expect(isStuck(record, NOW, 300)).toBe(stuck);
  });
});

describe('deletionsSuspicious (maxShare 0.5, minDeletions 5, maxDeletions 25)', () => {
  it.each<[number, number, boolean]>([
    [0, 10, false],
    [1, 1, false], // the last object of a workspace may go
    [4, 4, false], // below minDeletions
    [5, 10, false], // exactly half
    [6, 10, true],
    [5, 5, true], // everything: an empty list
    [25, 1000, false], // at the absolute threshold, a small share
    [26, 1000, true], // past it, whatever the share
    [600, 1000, true],
    [99, 99, true], // one type listed empty on one cluster (issue 14: 89 of 99 Deployments were deleted)
    [99, 198, true], // the same, had the types of the cluster been counted together
  ])('%i of %i → %s', (planned, total, suspicious) => {
    expect(deletionsSuspicious(planned, total, DEFAULT_GUARD)).toBe(suspicious);
  });
});

describe('absenceConfirmed (absentConfirmSeconds 50, absentForgetSeconds 3600)', () => {
  it.each<[string, number, boolean]>([
    ['seen absent just now', 0, false],
    ['seen absent 49 s ago', 49_000, false],
    ['seen absent 50 s ago', 50_000, true],
    ['seen absent an hour ago', 3_600_000, true],
    ['seen absent more than an hour ago: too old to confirm', 3_600_001, false],
  ])('%s → %s', (_name, age, confirmed) => {
    expect(absenceConfirmed(NOW - age, NOW, DEFAULT_GUARD)).toBe(confirmed);
  });
});

describe('containsDesired (drift)', () => {
  it.each<[string, unknown, unknown, boolean]>([
    [
      'server defaults added',
      { spec: { replicas: 2, strategy: { type: 'RollingUpdate' } }, status: {} },
      { spec: { replicas: 2 } },
      true,
    ],
    ['replicas changed by hand', { spec: { replicas: 5 } }, { spec: { replicas: 2 } }, false],
    ['a label removed', { metadata: { labels: {} } }, { metadata: { labels: { app: 'web' } } }, false],
    [
      'extra label added by someone',
      { metadata: { labels: { app: 'web', x: '1' } } },
      { metadata: { labels: { app: 'web' } } },
      true,
    ],
    [
      'container image changed',
      { spec: { containers: [{ name: 'a', image: 'b:2' }] } },
      { spec: { containers: [{ name: 'a', image: 'b:1' }] } },
      false,
    ],
    [
      'a container added',
      { spec: { containers: [{ name: 'a' }, { name: 'b' }] } },
      { spec: { containers: [{ name: 'a' }] } },
      false,
    ],
  ])('%s', (_name, live, desired, same) => {
    expect(containsDesired(live, desired)).toBe(same);
  });
});
