import { forEachPaced } from '../../../bench/e2e/kcp-writer';

/** The paced latency phase's load generator: a fixed schedule, one write at a time (fake timers: no wall clock). */
describe('forEachPaced', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('starts the i-th write i intervals after the first, never two at once', async () => {
    const started: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const done = forEachPaced(4, 200, async (i) => {
      started.push(i);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await Promise.resolve();
      inFlight--;
    });
    await jest.advanceTimersByTimeAsync(0);
    expect(started).toEqual([0]);
    await jest.advanceTimersByTimeAsync(199);
    expect(started).toEqual([0]);
    await jest.advanceTimersByTimeAsync(1);
    expect(started).toEqual([0, 1]);
    await jest.advanceTimersByTimeAsync(400);
    await done;
    expect(started).toEqual([0, 1, 2, 3]);
    expect(maxInFlight).toBe(1);
  });

  it('does not bunch writes up after a slow one: the next starts one interval after the slow one started', async () => {
    const startedAt: number[] = [];
    const done = forEachPaced(3, 100, async (i) => {
      startedAt.push(performance.now());
      if (i === 0) await new Promise((resolve) => setTimeout(resolve, 350));
    });
    await jest.advanceTimersByTimeAsync(1000);
    await done;
    const [first, second, third] = startedAt.map((t) => t - startedAt[0]);
    expect(first).toBe(0);
    expect(second).toBe(350); // the slow write held the next one back
    expect(third).toBe(450); // one interval after the second, not straight after it
  });
});
