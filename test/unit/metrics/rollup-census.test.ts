import {
  CENSUS_MAX_AGE_MS,
  computeRollup,
  type CensusMemory,
  type QueueDepth,
  type RollupSources,
  type SyncStateSample,
} from '../../../lib/metrics/rollup';

/** Sources over a fixed table that count the sync-item reads the rollup makes (one Query per cluster in DynamoDB). */
function table(): {
  sources: RollupSources;
  reads: () => number;
  set(cluster: string, samples: SyncStateSample[]): void;
  queue(depth: Partial<QueueDepth>): void;
} {
  let syncReads = 0;
  const syncs = new Map<string, SyncStateSample[]>([
    ['east', [{ state: 'applied', updatedAt: '2026-12-06T09:00:00Z' }]],
    ['west', [{ state: 'applied', updatedAt: '2026-12-06T09:00:00Z' }]],
  ]);
  let depth: QueueDepth = { queue: 'sync', visible: 0, inFlight: 0, delayed: 0, dlq: 0 };
  return {
    sources: {
      clusterHealth: async () => [...syncs.keys()].map((cluster) => ({ cluster, state: 'Healthy' as const })),
      knownClusters: async () => [...syncs.keys()],
      syncStates: async (cluster) => {
        syncReads++;
        return syncs.get(cluster) ?? [];
      },
      circuit: async () => undefined,
      queueDepths: async () => [depth],
    },
    reads: () => syncReads,
    set: (cluster, samples) => void syncs.set(cluster, samples),
    queue: (d) => void (depth = { ...depth, ...d }),
  };
}

const T0 = Date.parse('2026-12-06T10:00:00Z');
const applied = (snapshot: Awaited<ReturnType<typeof computeRollup>>): number | undefined =>
  snapshot.find((g) => g.name === 'tmc_objects' && g.labels.state === 'applied')?.value;

describe('the rollup census of sync items', () => {
  it('reads no sync item on an idle run once it has a census of a settled stack', async () => {
    const t = table();
    const census: CensusMemory = {};
    expect(applied(await computeRollup(t.sources, T0, census))).toBe(2);
    expect(t.reads()).toBe(2);
    expect(applied(await computeRollup(t.sources, T0 + 60_000, census))).toBe(2);
    expect(applied(await computeRollup(t.sources, T0 + 120_000, census))).toBe(2);
    expect(t.reads()).toBe(2);
  });

  it('counts again while work is queued, and once more after it settled', async () => {
    const t = table();
    const census: CensusMemory = {};
    await computeRollup(t.sources, T0, census);
    t.queue({ inFlight: 3 });
    t.set('east', [
      { state: 'applied', updatedAt: '2026-12-06T09:00:00Z' },
      { state: 'applied', updatedAt: '2026-12-06T10:00:30Z' },
    ]);
    expect(applied(await computeRollup(t.sources, T0 + 60_000, census))).toBe(3);
    expect(t.reads()).toBe(4);
    t.queue({ inFlight: 0 });
    await computeRollup(t.sources, T0 + 120_000, census);
    expect(t.reads()).toBe(6);
    await computeRollup(t.sources, T0 + 180_000, census);
    expect(t.reads()).toBe(6);
  });

  it('counts every run while a pair is not applied (the sync-lag alarm needs its age), and on a DLQ change', async () => {
    const t = table();
    const census: CensusMemory = {};
    t.set('west', [{ state: 'failed', updatedAt: '2026-12-06T09:59:00Z' }]);
    await computeRollup(t.sources, T0, census);
    const second = await computeRollup(t.sources, T0 + 60_000, census);
    expect(t.reads()).toBe(4);
    expect(second.find((g) => g.name === 'tmc_oldest_pending_sync_seconds')?.value).toBe(120);
    t.set('west', [{ state: 'applied', updatedAt: '2026-12-06T10:01:30Z' }]);
    await computeRollup(t.sources, T0 + 120_000, census);
    await computeRollup(t.sources, T0 + 180_000, census);
    // The run after the fix counts again (the last census had a failed pair); the next reuses it.
    expect(t.reads()).toBe(6);
    t.queue({ dlq: 1 });
    await computeRollup(t.sources, T0 + 240_000, census);
    expect(t.reads()).toBe(8);
  });

  it('counts again after CENSUS_MAX_AGE_MS however quiet, and when a cluster comes or goes', async () => {
    const t = table();
    const census: CensusMemory = {};
    await computeRollup(t.sources, T0, census);
    await computeRollup(t.sources, T0 + CENSUS_MAX_AGE_MS, census);
    expect(t.reads()).toBe(4);
    t.set('north', []);
    await computeRollup(t.sources, T0 + CENSUS_MAX_AGE_MS + 60_000, census);
    expect(t.reads()).toBe(7);
  });

  it('reads every sync item on every run without a census (what tests and a cold container do)', async () => {
    const t = table();
    await computeRollup(t.sources, T0);
    await computeRollup(t.sources, T0 + 60_000);
    expect(t.reads()).toBe(4);
  });
});
