import { growthOf, type ChurnSample } from '../../../bench/e2e/churn';
import { churnLines } from '../../../bench/report';

/** A sample at `minute` with RSS `rssMb` and the main thread's heap `mainMb`; everything else constant. */
function sample(minute: number, rssMb: number, mainMb: number): ChurnSample {
  return {
    atSeconds: minute * 60,
    rssMb,
    heapUsedMb: mainMb,
    externalMb: 1,
    stateDirMb: 2,
    threadHeapsMb: { main: mainMb, dynamodb: 13 },
    threadReservedMb: { main: mainMb + 40 },
    threadYoungMb: { main: 16 },
    outsideHeapsMb: 200,
    containers: { ingress: 2 },
    simulator: { watchEvents: 100, requestRecords: 10, events: 5 },
    jobsMs: { 'health-probe': 50 },
  };
}

describe('churn growth: over the run, over its second half, per hour and after a day', () => {
  // 20 minutes: RSS rises 10 MB a minute for 10 minutes, then stays; the main heap rises 2 MB a minute throughout.
  const samples = Array.from({ length: 21 }, (_, m) => sample(m, 800 + 10 * Math.min(m, 10), 80 + 2 * m));
  const growth = growthOf(samples);
  const of = (quantity: string) => growth.find((g) => g.quantity === quantity)!;

  it('shows growth that levelled off: a slope over the run, none over its second half', () => {
    expect(of('rssMb')).toMatchObject({ start: 800, end: 900, secondHalfPerMinute: 0, perHour: 0, after24h: 900 });
    expect(of('rssMb').perMinute).toBeGreaterThan(4);
  });

  it('projects steady growth from the second half to 24 h of running', () => {
    expect(of('threadHeapsMb.main')).toEqual({
      quantity: 'threadHeapsMb.main',
      unit: 'MB',
      start: 80,
      end: 120,
      perMinute: 2,
      secondHalfPerMinute: 2,
      perHour: 120,
      // 120 MB at minute 20, then 2 MB a minute for the 1,420 minutes left of the day.
      after24h: 120 + 2 * 1420,
    });
  });

  it('covers every sampled quantity, flat ones at 0', () => {
    expect(growth.map((g) => g.quantity)).toEqual([
      'rssMb',
      'threadHeapsMb.main',
      'threadHeapsMb.dynamodb',
      'threadReservedMb.main',
      'threadYoungMb.main',
      'outsideHeapsMb',
      'stateDirMb',
      'simulator.watchEvents',
      'simulator.requestRecords',
      'simulator.events',
      'jobsMs.health-probe',
    ]);
    expect(of('simulator.events')).toMatchObject({ perMinute: 0, secondHalfPerMinute: 0, after24h: 5 });
  });

  it('prints the table and a per-day line for RSS', () => {
    const lines = churnLines({
      minutes: 20,
      ratePerSecond: 4,
      achievedPerSecond: 3.5,
      livePairs: 50,
      eventTtlSeconds: 300,
      changes: { creates: 1, updates: 1, deletes: 1 },
      samples,
      growthPerMinute: {
        rssMb: 5,
        heapUsedMb: 2,
        stateDirMb: 0,
        threadHeapsMb: { main: 2, dynamodb: 0 },
        outsideHeapsMb: 0,
        watchEvents: 0,
        requestRecords: 0,
        jobsMs: { 'health-probe': 0 },
      },
      growth,
    }).join('\n');
    expect(lines).toContain('simulator Events expire 300 s after their last write');
    expect(lines).toMatch(/per min, 2nd half/);
    expect(lines).toMatch(/main heap \(after a full GC\) MB +80 +120 +\+2\.00 +\+2\.00 +\+120 +2960/);
    expect(lines).toContain('rss: 0 MB/h at the second half');
    expect(lines).toContain('≈0.88 GB after 24 h at this rate');
  });
});
