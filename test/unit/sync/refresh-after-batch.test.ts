import type { ObjectRef } from '../../../lib/api/object-ref';
import type { ObjectSnapshot, ObjectSnapshotReader } from '../../../lib/ports/object-snapshot';
import { RefreshAfterBatch, reportFollowing } from '../../../lib/sync/status/refresh-after-batch';
import { memoryLog } from '../../../lib/observability/log';

function ref(name: string): ObjectRef {
  return {
    workspace: 'root:org',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespace: 'web',
    name,
  };
}

describe('RefreshAfterBatch', () => {
  it('answers at once and refreshes each object once when the batch is flushed', async () => {
    const refreshed: string[] = [];
    const batch = new RefreshAfterBatch({ refresh: async (r) => refreshed.push(r.name) }, memoryLog());
    await batch.refresh(ref('a'));
    await batch.refresh(ref('b'));
    await batch.refresh(ref('a'));
    expect(refreshed).toEqual([]);
    await batch.flush();
    expect(refreshed.sort()).toEqual(['a', 'b']);
    await batch.flush();
    expect(refreshed).toHaveLength(2);
  });

  it('logs a failed refresh with the object named and still refreshes the others', async () => {
    const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
    const refreshed: string[] = [];
    const batch = new RefreshAfterBatch(
      {
        refresh: async (r) => {
          if (r.name === 'bad') throw new Error('kcp said 500');
          refreshed.push(r.name);
        },
      },
      memoryLog(lines),
    );
    await batch.refresh(ref('bad'));
    await batch.refresh(ref('good'));
    await expect(batch.flush()).resolves.toBeUndefined();
    expect(refreshed).toEqual(['good']);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: expect.stringContaining('web/bad'),
        attributes: { error: 'Error: kcp said 500' },
      }),
    ]);
  });

  it('bounds how many refreshes run at once', async () => {
    let running = 0;
    let most = 0;
    const batch = new RefreshAfterBatch(
      {
        refresh: async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setImmediate(resolve));
          running--;
        },
      },
      memoryLog(),
    );
    for (let i = 0; i < 10; i++) await batch.refresh(ref(`d${i}`));
    await batch.flush();
    expect(most).toBe(4);
  });

  describe('an apply whose cluster will report it', () => {
    /** Stored reports: cluster → downstream observedGeneration. */
    const snapshotOf = (reported: Record<string, number>, reads: string[]): ObjectSnapshotReader => ({
      read: async (r): Promise<ObjectSnapshot> => {
        reads.push(r.name);
        return {
          decision: undefined,
          syncRecords: [],
          statuses: Object.entries(reported).map(([cluster, observedGeneration]) => ({
            ref: r,
            cluster,
            status: { observedGeneration },
            resourceVersion: '1',
            observedAt: new Date(0).toISOString(),
          })),
        };
      },
    });

    it('is left to that report while none is stored: no kcp refresh from sync-apply', async () => {
      const refreshed: string[] = [];
      const reads: string[] = [];
      const batch = new RefreshAfterBatch(
        { refresh: async (r) => refreshed.push(r.name) },
        memoryLog(),
        snapshotOf({ east: 1 }, reads),
      );
      await batch.refresh(ref('a'), { cluster: 'east', downstreamGeneration: 2 });
      await batch.refresh(ref('a'), { cluster: 'west', downstreamGeneration: 1 });
      await batch.flush();
      expect(reads).toEqual(['a']);
      expect(refreshed).toEqual([]);
    });

    it('refreshes when the report raced ahead of the sync record (already stored for that generation)', async () => {
      const refreshed: string[] = [];
      const batch = new RefreshAfterBatch(
        { refresh: async (r) => refreshed.push(r.name) },
        memoryLog(),
        snapshotOf({ west: 3 }, []),
      );
      await batch.refresh(ref('a'), { cluster: 'east', downstreamGeneration: 2 });
      await batch.refresh(ref('a'), { cluster: 'west', downstreamGeneration: 3 });
      await batch.flush();
      expect(refreshed).toEqual(['a']);
    });

    it('refreshes when any ask of the object expects no report, or without a way to read reports', async () => {
      const refreshed: string[] = [];
      const reads: string[] = [];
      const batch = new RefreshAfterBatch(
        { refresh: async (r) => refreshed.push(r.name) },
        memoryLog(),
        snapshotOf({}, reads),
      );
      await batch.refresh(ref('a'), { cluster: 'east', downstreamGeneration: 2 });
      await batch.refresh(ref('a'));
      await batch.flush();
      expect(reads).toEqual([]);
      const bare = new RefreshAfterBatch({ refresh: async (r) => refreshed.push(r.name) }, memoryLog());
      await bare.refresh(ref('b'), { cluster: 'east', downstreamGeneration: 2 });
      await bare.flush();
      expect(refreshed).toEqual(['a', 'b']);
    });

    it.each([
      ['Deployment', 0, 1, true], // created downstream
      ['Deployment', 1, 2, true], // a new generation
      ['StatefulSet', 4, 5, true],
      ['Deployment', 2, 2, false], // unchanged generation (recovery from a failed attempt, an adopted copy): no report comes
      ['Deployment', undefined, 2, false], // generation before unknown
      ['ConfigMap', 0, undefined, false], // no status
      ['Service', 0, 1, false], // its status does not answer a new generation
    ])('%s from generation %s to %s: report follows %s', (kind, before, after, follows) => {
      expect(reportFollowing(kind, 'east', before, after) !== undefined).toBe(follows);
    });
  });
});
