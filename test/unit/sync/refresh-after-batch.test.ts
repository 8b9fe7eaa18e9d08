import type { ObjectRef } from '../../../lib/api/object-ref';
import { RefreshAfterBatch } from '../../../lib/sync/status/refresh-after-batch';
import { memoryLog } from '../../../lib/sync/sync-log';

function ref(name: string): ObjectRef {
  return { workspace: 'root:org', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'web', name };
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
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringContaining('web/bad'), attributes: { error: 'Error: kcp said 500' } })]);
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
});
