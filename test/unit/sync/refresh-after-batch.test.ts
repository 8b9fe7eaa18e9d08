import type { StatusMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import type { ObjectSnapshot, ObjectSnapshotReader } from '../../../lib/ports/object-snapshot';
import { RefreshAfterBatch, reportFollowing } from '../../../lib/sync/status/refresh-after-batch';
import { memoryLog } from '../../../lib/observability/log';
import type { StatusReport } from '../../../lib/sync/status/report-status';

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

  it("runs every object's refresh of a full batch at once: one wave of requests, not three", async () => {
    let running = 0;
    let most = 0;
    let waves = 0;
    const batch = new RefreshAfterBatch(
      {
        refresh: async () => {
          if (running === 0) waves++;
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
    expect(most).toBe(10);
    expect(waves).toBe(1);
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
  describe("held back while other clusters' applies are on their way (with a schedule)", () => {
    const rerunOf = (r: ObjectRef, cluster: string): StatusMessage => ({
      type: 'status',
      ref: r,
      cluster,
      rerun: true,
      trace: { traceId: `t-${cluster}`, enqueuedAt: new Date(0).toISOString() },
    });
    /** A coalescing reporter that holds every object named in `awaiting`, and records what it was asked. */
    const reporterOf = (awaiting: Set<string>, asked: string[]) => ({
      refresh: async (r: ObjectRef): Promise<StatusReport> => {
        asked.push(`refresh ${r.name}`);
        return { annotations: true, status: false };
      },
      refreshUnlessAwaited: async (r: ObjectRef): Promise<StatusReport> => {
        asked.push(`unless-awaited ${r.name}`);
        return awaiting.has(r.name)
          ? { annotations: false, status: false, awaiting: ['west'] }
          : { annotations: true, status: false };
      },
    });

    it('a held refresh sends its re-run (one send for the batch) and writes nothing; the others write', async () => {
      const asked: string[] = [];
      const sent: StatusMessage[][] = [];
      const batch = new RefreshAfterBatch(reporterOf(new Set(['a', 'b']), asked), memoryLog(), undefined, async (m) => {
        sent.push(m);
      });
      await batch.refresh(ref('a'), undefined, rerunOf(ref('a'), 'east'));
      await batch.refresh(ref('b'), undefined, rerunOf(ref('b'), 'east'));
      await batch.refresh(ref('c'), undefined, rerunOf(ref('c'), 'east'));
      await batch.flush();
      expect(asked.sort()).toEqual(['unless-awaited a', 'unless-awaited b', 'unless-awaited c']);
      expect(sent).toHaveLength(1);
      expect(sent[0].map((m) => m.ref.name).sort()).toEqual(['a', 'b']);
    });

    it('an ask without a re-run (a failure or a delete recorded) is never held, whatever else the batch asked', async () => {
      const asked: string[] = [];
      const sent: StatusMessage[] = [];
      const batch = new RefreshAfterBatch(reporterOf(new Set(['a']), asked), memoryLog(), undefined, async (m) => {
        sent.push(...m);
      });
      await batch.refresh(ref('a'), undefined, rerunOf(ref('a'), 'east'));
      await batch.refresh(ref('a'));
      await batch.flush();
      expect(asked).toEqual(['refresh a']);
      expect(sent).toEqual([]);
    });

    it('a re-run that could not be sent: the held refresh writes at once, and the failure is logged', async () => {
      const asked: string[] = [];
      const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
      const batch = new RefreshAfterBatch(reporterOf(new Set(['a']), asked), memoryLog(lines), undefined, async () => {
        throw new Error('SQS unavailable');
      });
      await batch.refresh(ref('a'), undefined, rerunOf(ref('a'), 'east'));
      await batch.flush();
      expect(asked).toEqual(['unless-awaited a', 'refresh a']);
      expect(lines).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringContaining('re-runs') })]);
    });

    it('a report that raced ahead of the apply: its re-run is sent, and nothing is refreshed here', async () => {
      const asked: string[] = [];
      const sent: StatusMessage[] = [];
      const snapshot: ObjectSnapshotReader = {
        read: async (r): Promise<ObjectSnapshot> => ({
          decision: undefined,
          syncRecords: [],
          statuses: [
            { ref: r, cluster: 'east', status: { observedGeneration: 2 }, resourceVersion: '1', observedAt: '' },
          ],
        }),
      };
      const batch = new RefreshAfterBatch(reporterOf(new Set(), asked), memoryLog(), snapshot, async (m) => {
        sent.push(...m);
      });
      await batch.refresh(ref('a'), { cluster: 'east', downstreamGeneration: 2 }, rerunOf(ref('a'), 'east'));
      await batch.flush();
      expect(asked).toEqual([]);
      expect(sent.map((m) => [m.ref.name, m.cluster, m.rerun])).toEqual([['a', 'east', true]]);
    });
  });
});
