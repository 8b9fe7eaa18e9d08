import type { ClusterInfo } from '../../../lib/placement/types';
import type { DecisionVersion } from '../../../lib/ports/decision-store';
import { askAgainAfterReturn, newestReturn, RETURN_SETTLE_MS } from '../../../lib/recovery/partial';

const T = Date.parse('2026-01-01T12:00:00Z');
const at = (ms: number): string => new Date(ms).toISOString();
const cluster = (name: string, health: ClusterInfo['health'], availableSince?: number): ClusterInfo => ({
  name,
  labels: {},
  taints: [],
  unschedulable: false,
  health,
  ...(availableSince !== undefined ? { availableSince } : {}),
});

/** When the sweep re-asks a decision after a cluster returned (lib/recovery/partial.ts). */
describe('askAgainAfterReturn', () => {
  it.each<[string, DecisionVersion['reason'], number, boolean]>([
    ['partial, decided before the return', 'PartiallyScheduled', T - 1, true],
    ['unschedulable, decided before the return', 'Unschedulable', T - 60_000, true],
    ['no clusters, decided before the return', 'NoClusters', T - 1, true],
    // Seed 1406: decided 9 ms after the return from a health view read before it, then never asked again.
    ['partial, decided just after the return (its view may predate it)', 'PartiallyScheduled', T + 9, true],
    ['partial, decided at the return', 'PartiallyScheduled', T, true],
    [
      'partial, decided a settle time after the return (it saw the cluster)',
      'PartiallyScheduled',
      T + RETURN_SETTLE_MS,
      false,
    ],
    ['fully scheduled', 'Scheduled', T - 1, false],
    ['placed nowhere by policy', 'NoMatchingPlacement', T - 1, false],
    ['held deletion', 'DeletionHeld', T - 1, false],
  ])('%s', (_what, reason, decidedAt, expected) => {
    expect(askAgainAfterReturn({ reason, decidedAt: at(decidedAt) }, T)).toBe(expected);
  });
});

describe('newestReturn', () => {
  const now = T + 60_000;
  it.each<[string, ClusterInfo[], number | undefined]>([
    ['no cluster', [], undefined],
    ['the newest of usable clusters', [cluster('east', 'Healthy', T - 5_000), cluster('west', 'Degraded', T)], T],
    [
      'an Unhealthy cluster is not back',
      [cluster('east', 'Healthy', T - 5_000), cluster('west', 'Unhealthy', T)],
      T - 5_000,
    ],
    ['a cluster without health is unknown', [cluster('east', 'Unknown')], undefined],
    [
      'a return younger than the settle time waits',
      [cluster('east', 'Healthy', T - 5_000), cluster('west', 'Healthy', now - RETURN_SETTLE_MS + 1)],
      T - 5_000,
    ],
    [
      'a return exactly the settle time old counts',
      [cluster('west', 'Healthy', now - RETURN_SETTLE_MS)],
      now - RETURN_SETTLE_MS,
    ],
  ])('%s', (_what, clusters, expected) => {
    expect(newestReturn(clusters, now)).toBe(expected);
  });
});
