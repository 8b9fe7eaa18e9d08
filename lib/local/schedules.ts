import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import type { ScheduleDefinition } from '../runtime/resources';
import { LOCAL_ACCOUNT_ID } from './lambda-context';
import type { Log } from '../observability/log';

/** The rule's ARN as the cloud names it, so handlers that log or branch on `resources` see a realistic value. */
export function scheduleRuleArn(name: string, region: string): string {
  return `arn:aws:events:${region}:${LOCAL_ACCOUNT_ID}:rule/tmc-local-${name}`;
}

export function makeScheduledEvent(
  schedule: ScheduleDefinition,
  region: string,
  at: Date = new Date(),
): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT_ID,
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [scheduleRuleArn(schedule.name, region)],
    detail: {},
  };
}

/** A timed schedule first runs this soon after start (or at its rate, if shorter). */
export const FIRST_RUN_SECONDS = 5;

/** The stack's `schedules` option: false none, true (the default) all, a list those named. */
export function wantsTimer(option: boolean | readonly string[] | undefined, name: string): boolean {
  const wanted = option ?? true;
  return Array.isArray(wanted) ? wanted.includes(name) : wanted === true;
}

export interface SchedulerOptions {
  schedules: ScheduleDefinition[];
  /** Which schedules get timers; the others run only through `runNow`. Default all. */
  timed?: (schedule: ScheduleDefinition) => boolean;
  /** Rates in seconds by schedule name, replacing the cloud's (tests run health probes every second). */
  overrides?: Record<string, number>;
  region: string;
  invoke: (schedule: ScheduleDefinition, event: ScheduledEvent) => Promise<unknown>;
  logger: Log;
}

export interface Scheduler {
  /** Schedules with a run in progress. */
  readonly running: number;
  /** Runs one schedule now (unless it is running) and resolves when that run ends. */
  runNow(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * EventBridge schedules as timers. Unlike EventBridge, a schedule whose previous run has not finished is skipped:
 * in one process an overlapping sweep would only compete with itself.
 */
export function startScheduler(options: SchedulerOptions): Scheduler {
  const active = new Map<string, Promise<void>>();
  const timers: NodeJS.Timeout[] = [];

  const run = (schedule: ScheduleDefinition): Promise<void> => {
    const current = active.get(schedule.name);
    if (current !== undefined) return current;
    const started = options
      .invoke(schedule, makeScheduledEvent(schedule, options.region))
      .then(
        () => undefined,
        (err: unknown) =>
          options.logger.warn(`Schedule ${schedule.name} failed`, { target: schedule.target, error: err }),
      )
      .finally(() => active.delete(schedule.name));
    active.set(schedule.name, started);
    return started;
  };

  for (const schedule of options.schedules.filter(options.timed ?? ((): boolean => true))) {
    const seconds = options.overrides?.[schedule.name] ?? schedule.rateSeconds;
    // The first run comes after at most FIRST_RUN_SECONDS, then every `seconds`: a minute-rate health probe would
    // otherwise leave every SyncTarget's READY blank for the stack's first minute.
    const first = setTimeout(
      () => {
        void run(schedule);
        timers.push(setInterval(() => void run(schedule), seconds * 1000));
      },
      Math.min(seconds, FIRST_RUN_SECONDS) * 1000,
    );
    timers.push(first);
  }

  return {
    get running(): number {
      return active.size;
    },
    runNow: async (name: string): Promise<void> => {
      const schedule = options.schedules.find((s) => s.name === name);
      if (schedule === undefined) throw new Error(`No schedule named ${name}`);
      await run(schedule);
    },
    stop: async (): Promise<void> => {
      // clearTimeout and clearInterval clear either kind of timer.
      for (const timer of timers) clearTimeout(timer);
      await Promise.all([...active.values()]);
    },
  };
}
