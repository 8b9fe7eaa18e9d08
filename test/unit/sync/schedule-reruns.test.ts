import type { StatusMessage } from '../../../lib/api/messages';
import type { WorkQueue } from '../../../lib/ports/work-queue';
import { RERUN_DELAY_SECONDS, scheduleReruns } from '../../../lib/sync/status/batch-refresh';
import { ref, TYPES } from '../../support/builders';

const rerunOf = (name: string, cluster: string): StatusMessage => ({
  type: 'status',
  ref: ref('root:org', TYPES.deployments, name),
  cluster,
  rerun: true,
  trace: { traceId: `t-${cluster}`, enqueuedAt: new Date(0).toISOString() },
});

describe("scheduleReruns: one container's re-runs", () => {
  let clock = 0;
  let sends: Array<{ names: string[]; delaySeconds?: number }>;
  let failing = false;
  const queue: WorkQueue<StatusMessage> = {
    name: 'status',
    send: async (messages, options) => {
      if (failing) throw new Error('SQS unavailable');
      sends.push({ names: messages.map((m) => `${m.ref.name}/${m.cluster}`), delaySeconds: options?.delaySeconds });
    },
  };
  beforeEach(() => {
    clock = 1_000_000;
    sends = [];
    failing = false;
  });

  it('sends one re-run per object, and none while its queued re-run cannot run for another second', async () => {
    const schedule = scheduleReruns(queue, () => clock);
    await schedule([rerunOf('a', 'east'), rerunOf('a', 'west'), rerunOf('b', 'east')]);
    clock += 2_000;
    await schedule([rerunOf('a', 'north'), rerunOf('c', 'east')]);
    clock += 1_999; // a's re-run runs at +5 s at the earliest: 1,001 ms from now
    await schedule([rerunOf('a', 'east')]);
    expect(sends).toEqual([
      { names: ['a/east', 'b/east'], delaySeconds: RERUN_DELAY_SECONDS },
      { names: ['c/east'], delaySeconds: RERUN_DELAY_SECONDS },
    ]);
  });

  it('sends again once the queued re-run may have run (it may have read the table before this state)', async () => {
    const schedule = scheduleReruns(queue, () => clock);
    await schedule([rerunOf('a', 'east')]);
    clock += (RERUN_DELAY_SECONDS - 1) * 1000;
    await schedule([rerunOf('a', 'west')]);
    expect(sends.map((s) => s.names)).toEqual([['a/east'], ['a/west']]);
  });

  it('counts only a send that succeeded, and throws a failed one to the caller', async () => {
    const schedule = scheduleReruns(queue, () => clock);
    failing = true;
    await expect(schedule([rerunOf('a', 'east')])).rejects.toThrow('SQS unavailable');
    failing = false;
    await schedule([rerunOf('a', 'west')]);
    expect(sends.map((s) => s.names)).toEqual([['a/west']]);
  });

  it('each container keeps its own: another container sends its own re-run', async () => {
    await scheduleReruns(queue, () => clock)([rerunOf('a', 'east')]);
    await scheduleReruns(queue, () => clock)([rerunOf('a', 'west')]);
    expect(sends.map((s) => s.names)).toEqual([['a/east'], ['a/west']]);
  });
});
