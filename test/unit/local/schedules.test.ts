import { FIRST_RUN_SECONDS, startScheduler } from '../../../lib/local/schedules';
import { createStackLogger } from '../../../lib/local/log';
import type { ScheduleDefinition } from '../../../lib/runtime/resources';

describe('local schedules', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it(`run first within ${FIRST_RUN_SECONDS} s of start, then at their rate (READY is not blank for a minute)`, async () => {
    const invoke = jest.fn(async (_schedule: ScheduleDefinition, _event: unknown): Promise<unknown> => undefined);
    const scheduler = startScheduler({
      schedules: [
        { name: 'health-probe', target: 'health-probe', rateSeconds: 60 },
        { name: 'fast', target: 'health-probe', rateSeconds: 2 },
      ],
      region: 'us-east-1',
      invoke,
      logger: createStackLogger({ level: 'silent' }),
    });
    const runs = (name: string): number => invoke.mock.calls.filter(([schedule]) => schedule.name === name).length;

    await jest.advanceTimersByTimeAsync(FIRST_RUN_SECONDS * 1000);
    expect(runs('health-probe')).toBe(1);
    expect(runs('fast')).toBe(2); // at 2 s and 4 s: its rate is shorter than the first-run delay
    await jest.advanceTimersByTimeAsync(59_000);
    expect(runs('health-probe')).toBe(1);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runs('health-probe')).toBe(2);

    await scheduler.stop();
    const after = invoke.mock.calls.length;
    await jest.advanceTimersByTimeAsync(300_000);
    expect(invoke.mock.calls.length).toBe(after);
  });
});
