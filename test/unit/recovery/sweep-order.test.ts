import { nextSweepStart, recordSweepStart, sweepStart } from '../../../lib/recovery/cursor';
import type { ClusterCursors } from '../../../lib/sync/cluster-page';

const STEPS = ['cluster|a|east', 'unplaced|a', 'unsynced|a', 'partial|a', 'unplaced|b', 'holds', 'dead-letters'];

/** Cursor items in a map, counting writes. */
function cursors(): ClusterCursors & { items: Map<string, string>; writes: number } {
  const items = new Map<string, string>();
  const store = {
    items,
    writes: 0,
    sweepCursor: async (key: string) => items.get(key),
    putSweepCursor: async (key: string, after: string | undefined) => {
      store.writes++;
      if (after === undefined) items.delete(key);
      else items.set(key, after);
    },
  };
  return store;
}

/** One run over `steps` from the stored start, cut off in its `cutAt`-th step (undefined: none); the steps it reached. */
async function run(
  store: ReturnType<typeof cursors>,
  steps: readonly string[],
  cutAt: number | undefined,
): Promise<string[]> {
  const read = await sweepStart(store, steps);
  const turn = [...steps.slice(read.start), ...steps.slice(0, read.start)];
  await recordSweepStart(store, read, nextSweepStart(turn, cutAt));
  return turn.slice(0, cutAt === undefined ? turn.length : cutAt + 1);
}

describe('recovery sweep order under the deadline', () => {
  it('reaches every step within as many cut-off runs as there are steps, wherever the runs are cut', async () => {
    // Every cut-off pattern of the first runs: always in the first step, always in step k, and a fixed mix.
    const patterns: Array<(i: number) => number> = [
      ...STEPS.map((_, k) => () => k),
      (i) => [0, 3, 0, 0, 5, 1, 0][i % 7],
    ];
    for (const cutOf of patterns) {
      const store = cursors();
      const reached = new Set<string>();
      for (let i = 0; i < STEPS.length; i++) for (const step of await run(store, STEPS, cutOf(i))) reached.add(step);
      expect([...reached].sort()).toEqual([...STEPS].sort());
    }
  });

  it('starts the next run at the step cut off, or after it when it was the first', async () => {
    const store = cursors();
    expect(await run(store, STEPS, 0)).toEqual(['cluster|a|east']);
    expect(store.items.get('sweep-order')).toBe('unplaced|a');
    expect(await run(store, STEPS, 3)).toEqual(['unplaced|a', 'unsynced|a', 'partial|a', 'unplaced|b']);
    expect(store.items.get('sweep-order')).toBe('unplaced|b');
  });

  it('starts at the first step when the stored one is gone, and clears the cursor after a run that reached all', async () => {
    const store = cursors();
    store.items.set('sweep-order', 'cluster|a|west');
    expect(await run(store, STEPS, undefined)).toEqual(STEPS);
    expect(store.items.has('sweep-order')).toBe(false);
    // Nothing to clear: no write.
    const writes = store.writes;
    await run(store, STEPS, undefined);
    expect(store.writes).toBe(writes);
  });
});
