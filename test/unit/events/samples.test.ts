import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import { makeScheduledEvent } from '../../../lib/local/schedules';
import { FUNCTIONS, SCHEDULES } from '../../../lib/runtime/resources';
import { EVENTS_DIR, loadEvent } from '../../support/events';

const TEST_ROOT = join(__dirname, '..', '..');

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, suffix);
    return path.endsWith(suffix) ? [path] : [];
  });
}

const LOAD_CALL = /loadEvent(?:<[^>]*>)?\(\s*'([a-z-]+)'/g;

/**
 * `fn/file` for the samples the tests load: in a test file that calls loadEvent('fn', …), itself or through a helper
 * module it imports, every '….json' literal names a sample of fn.
 */
function loadedSamples(): Set<string> {
  const loaded = new Set<string>();
  for (const path of filesUnder(TEST_ROOT, '.ts')) {
    if (path.endsWith(join('support', 'events.ts'))) continue;
    const source = readFileSync(path, 'utf8');
    const helpers = [...source.matchAll(/from '(\.{1,2}\/[^']+)'/g)]
      .map((m) => join(dirname(path), `${m[1]}.ts`))
      .filter((p) => existsSync(p));
    const fns = new Set(
      [source, ...helpers.map((p) => readFileSync(p, 'utf8'))].flatMap((text) =>
        [...text.matchAll(LOAD_CALL)].map((m) => m[1]),
      ),
    );
    const files = [...source.matchAll(/'([a-z0-9-]+\.json)'/g)].map((m) => m[1]);
    for (const fn of fns) for (const file of files) loaded.add(`${fn}/${file}`);
  }
  return loaded;
}

describe('events/: sample events of every function', () => {
  const folders = readdirSync(EVENTS_DIR).filter((name) => statSync(join(EVENTS_DIR, name)).isDirectory());
  const samples = folders.flatMap((fn) =>
    readdirSync(join(EVENTS_DIR, fn))
      .filter((f) => f.endsWith('.json'))
      .map((file) => `${fn}/${file}`),
  );

  it('has a folder for every function and none for a function that does not exist', () => {
    expect([...folders].sort()).toEqual(Object.keys(FUNCTIONS).sort());
  });

  it('every sample is loaded by a test (through loadEvent)', () => {
    const loaded = loadedSamples();
    const unloaded = samples.filter((sample) => !loaded.has(sample));
    expect(unloaded).toEqual([]);
  });

  // Each schedule's sample, loaded by name: what EventBridge (and the local scheduler) hands the scheduled functions.
  const scheduled: Record<string, ScheduledEvent> = {
    'health-probe': loadEvent<ScheduledEvent>('health-probe', 'scheduled.json'),
    'recovery-sweep': loadEvent<ScheduledEvent>('recovery-sweep', 'scheduled.json'),
    'metrics-rollup': loadEvent<ScheduledEvent>('metrics-rollup', 'scheduled.json'),
    'status-backstop': loadEvent<ScheduledEvent>('status-up', 'status-backstop.json'),
  };

  it('has a sample for every schedule', () => {
    expect(Object.keys(scheduled).sort()).toEqual(SCHEDULES.map((s) => s.name).sort());
  });

  it.each(SCHEDULES.map((s) => [s.name, s] as const))(
    'schedule %s: its sample has the shape the local scheduler and EventBridge send',
    (name, schedule) => {
      const sample = scheduled[name]!;
      const local = makeScheduledEvent(schedule, sample.region, new Date(sample.time));
      expect(Object.keys(sample).sort()).toEqual(Object.keys(local).sort());
      expect({ ...sample, id: '', account: '', resources: [] }).toEqual({
        ...local,
        id: '',
        account: '',
        resources: [],
      });
      expect(sample.resources).toHaveLength(1);
      expect(sample.resources[0]).toMatch(new RegExp(`:rule/(tmc-[a-z0-9-]+-)?${name}$`));
    },
  );
});
