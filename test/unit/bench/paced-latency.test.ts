import { LATENCY_SYNC_BUDGET_PER_SECOND, pacedLatencyPhase, QUICK_LATENCY_PHASE } from '../../../bench/sizes';

describe('the paced latency phase per size', () => {
  it('offers the same object·cluster syncs per second whatever the cluster count (a fixed write rate measured a queue at 50)', () => {
    for (const clusters of [3, 10, 50]) {
      const { rate } = pacedLatencyPhase(clusters, {});
      expect(rate * clusters).toBeLessThanOrEqual(LATENCY_SYNC_BUDGET_PER_SECOND + 0.5);
    }
    expect(pacedLatencyPhase(3, {})).toEqual({ objects: 50, rate: 5 });
    expect(pacedLatencyPhase(10, {})).toEqual({ objects: 15, rate: 1.5 });
    expect(pacedLatencyPhase(50, {})).toEqual({ objects: 5, rate: 0.3 });
  });

  it('keeps what the flags give, and --quick stays small', () => {
    expect(pacedLatencyPhase(50, { objects: 0, rate: 2 })).toEqual({ objects: 0, rate: 2 });
    expect(pacedLatencyPhase(3, {}, true)).toEqual(QUICK_LATENCY_PHASE);
  });
});
