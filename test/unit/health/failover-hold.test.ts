import { failoverHold, markFailoverHold } from '../../../lib/health/failover-hold';
import type { HealthState } from '../../../lib/health/cluster-health';

/** `n` clusters of which the first `down` are Unhealthy, the rest Healthy. */
const fleet = (n: number, down: number): Array<{ name: string; health: HealthState }> =>
  Array.from({ length: n }, (_, i) => ({ name: `c${i}`, health: i < down ? 'Unhealthy' : 'Healthy' }));

describe('failoverHold', () => {
  it.each<[string, number, number, boolean]>([
    ['one cluster of one down: failover is what it is for', 1, 1, false],
    ['one of two down (50%)', 2, 1, false],
    ['both of two down', 2, 2, true],
    ['one of three down: the benchmark east, a cluster of its own', 3, 1, false],
    ['two of three down (67%)', 3, 2, true],
    ['every one of three down', 3, 3, true],
    ['two of four down (50%)', 4, 2, false],
    ['three of four down (75%)', 4, 3, true],
    ['eleven of twenty down (55%, the threshold itself)', 20, 11, true],
    ['ten of twenty down (50%)', 20, 10, false],
    ['nothing down', 5, 0, false],
    ['no clusters', 0, 0, false],
  ])('%s', (_name, n, down, held) => {
    expect(failoverHold(fleet(n, down)).held).toBe(held);
  });

  it('names the clusters and what to do', () => {
    const hold = failoverHold(fleet(3, 3));
    expect(hold).toMatchObject({ held: true, unhealthy: ['c0', 'c1', 'c2'], total: 3 });
    expect(hold.message).toMatch(/c0, c1, c2/);
    expect(hold.message).toMatch(/cordon|NoExecute/);
  });

  it('counts Degraded and Unknown clusters as not Unhealthy', () => {
    const clusters = [
      { name: 'a', health: 'Unhealthy' as const },
      { name: 'b', health: 'Degraded' as const },
      { name: 'c', health: 'Unknown' as const },
    ];
    expect(failoverHold(clusters).held).toBe(false);
  });

  it('holds only at share 1 when configured so', () => {
    expect(failoverHold(fleet(3, 2), { share: 1, minClusters: 2 }).held).toBe(false);
    expect(failoverHold(fleet(3, 3), { share: 1, minClusters: 2 }).held).toBe(true);
  });
});

describe('markFailoverHold', () => {
  it('marks only the Unhealthy clusters, and only while held', () => {
    expect(markFailoverHold(fleet(3, 1)).some((c) => 'failoverHeld' in c)).toBe(false);
    expect(
      markFailoverHold(fleet(3, 2)).map((c) => c.name + ('failoverHeld' in c && c.failoverHeld ? '!' : '')),
    ).toEqual(['c0!', 'c1!', 'c2']);
  });
});
