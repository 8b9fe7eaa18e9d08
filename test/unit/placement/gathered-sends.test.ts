import type { SyncMessage } from '../../../lib/api/messages';
import { GatheredSends } from '../../../lib/placement/gathered-sends';
import type { WorkQueue } from '../../../lib/ports/work-queue';

const message = (name: string, cluster: string): SyncMessage => ({
  type: 'sync',
  ref: {
    workspace: 'root:test',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespace: 'default',
    name,
  },
  cluster,
  action: 'apply',
  decisionVersion: 1,
  trace: { traceId: 't', enqueuedAt: new Date(0).toISOString() },
});
const threeClusters = (name: string): SyncMessage[] => ['east', 'west', 'edge'].map((c) => message(name, c));

function recordingQueue(fail?: (call: number) => boolean): WorkQueue<SyncMessage> & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    name: 'sync',
    calls,
    async send(messages) {
      calls.push(messages.map((m) => `${m.ref.name}:${m.cluster}`));
      if (fail?.(calls.length)) throw new Error('SQS is down');
    },
  };
}

describe('GatheredSends', () => {
  it('waits for the placement messages that started, then sends in chunks of ten', async () => {
    const queue = recordingQueue();
    const sends = new GatheredSends(queue);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((o) => sends.begin(o));
    await a.send(threeClusters('a'));
    await b.send(threeClusters('b'));
    await c.send(threeClusters('c'));
    expect(queue.calls).toEqual([]); // d has started and may still send
    await d.send(threeClusters('d'));
    expect(queue.calls.map((call) => call.length)).toEqual([10, 2]);
    await expect(sends.flush()).resolves.toEqual(new Map());
  });

  it('a message that ends without sending stops holding the others back', async () => {
    const queue = recordingQueue();
    const sends = new GatheredSends(queue);
    const a = sends.begin('a');
    sends.begin('unchanged');
    await a.send(threeClusters('a'));
    expect(queue.calls).toEqual([]);
    sends.end('unchanged');
    expect(queue.calls).toEqual([['a:east', 'a:west', 'a:edge']]);
  });

  it('names the owners of a chunk that failed, once each, and only those', async () => {
    const queue = recordingQueue((call) => call === 2);
    const sends = new GatheredSends(queue);
    const owners = ['a', 'b', 'c', 'd'];
    const queues = owners.map((o) => sends.begin(o));
    for (const [i, q] of queues.entries()) await q.send(threeClusters(owners[i]));
    const undelivered = await sends.flush();
    // The first chunk (a, b, c and one of d's) went out; the second (d's other two) failed.
    expect(queue.calls.map((call) => call.length)).toEqual([10, 2]);
    expect([...undelivered.keys()]).toEqual(['d']);
    expect(undelivered.get('d')).toMatchObject({ object: 'Deployment default/d' });
  });
});
