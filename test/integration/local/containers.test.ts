import { join } from 'node:path';
import { PromMetrics } from '../../../lib/metrics/prom-metrics';
import { FunctionRuntime, type FunctionRuntimeOptions } from '../../../lib/local/function-runtime';
import { memoryLog } from '../../../lib/observability/log';
import { findProjectRoot } from '../../../lib/local/paths';

/**
 * One invocation at a time per container, as Lambda runs them: invocations that overlap get containers of their own
 * (their own app: deps, caches, locks), and a later one reuses a warm container. In process and in a worker thread.
 */

const FIXTURE = join(__dirname, 'fixtures', 'container-handler.ts');

/** The runtime with the fixture as placement's handler. */
function fixtureRuntime(options: Partial<FunctionRuntimeOptions>): FunctionRuntime {
  return new FunctionRuntime({
    projectRoot: findProjectRoot(),
    region: 'eu-west-1',
    logger: memoryLog(),
    handlerModules: { placement: FIXTURE },
    ...options,
  });
}

interface Reply {
  container: string;
  mostAtOnce: number;
}

describe.each([
  ['in process', undefined],
  ['in a worker thread', ['placement' as const]],
])('function containers (%s)', (_, threads) => {
  let runtime: FunctionRuntime;

  beforeAll(() => {
    runtime = fixtureRuntime({ threads, metrics: new PromMetrics() });
  });
  afterAll(async () => runtime.stop());

  it('runs overlapping invocations in containers of their own, and reuses a warm one after', async () => {
    const overlapping = (await Promise.all([1, 2, 3].map(() => runtime.invoke('placement', { ms: 200 })))) as Reply[];
    expect(new Set(overlapping.map((r) => r.container)).size).toBe(3);
    expect(overlapping.map((r) => r.mostAtOnce)).toEqual([1, 1, 1]);
    const later = (await runtime.invoke('placement', { ms: 1 })) as Reply;
    expect(overlapping.map((r) => r.container)).toContain(later.container);
    expect(later.mostAtOnce).toBe(1);
  });
});

describe('function containers with a limit', () => {
  let runtime: FunctionRuntime;

  beforeAll(() => {
    runtime = fixtureRuntime({ maxContainers: { placement: 1 } });
  });
  afterAll(async () => runtime.stop());

  it('runs overlapping invocations one after another in the one container, as a reserved concurrency of 1', async () => {
    const replies = (await Promise.all([1, 2, 3].map(() => runtime.invoke('placement', { ms: 50 })))) as Reply[];
    expect(new Set(replies.map((r) => r.container)).size).toBe(1);
    expect(replies.map((r) => r.mostAtOnce)).toEqual([1, 1, 1]);
  });
});
