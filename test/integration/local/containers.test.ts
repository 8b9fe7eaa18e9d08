import { join } from 'node:path';
import { PromMetrics } from '../../../lib/metrics/prom-metrics';
import { FunctionTimeoutError } from '../../../lib/local/container-pool';
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

/**
 * The function's timeout as Lambda enforces it: counted from when the invocation has a container (an invocation
 * waiting for one is throttled, not running). Before, the clock (and the context's deadline, which the handler's
 * middleware enforces) started on arrival, so an invocation that waited for the only container spent its own
 * timeout waiting and failed as a whole: its messages came back only after the queue's visibility timeout.
 */
describe.each([
  ['in process', undefined],
  ['in a worker thread', ['placement' as const]],
])('function timeouts (%s)', (_, threads) => {
  let runtime: FunctionRuntime;

  beforeAll(() => {
    runtime = fixtureRuntime({
      threads,
      metrics: new PromMetrics(),
      maxContainers: { placement: 1 },
      timeoutMs: { placement: 1_000 },
    });
  });
  afterAll(async () => runtime.stop());

  it('counts the timeout from when the invocation has its container', async () => {
    // Three of 600 ms one after another in the one container: the third ends 1.8 s after it arrived.
    const replies = (await Promise.all([1, 2, 3].map(() => runtime.invoke('placement', { ms: 600 })))) as Reply[];
    expect(new Set(replies.map((r) => r.container)).size).toBe(1);
  });

  it('fails an invocation past its timeout, and the one waiting for its container gets the whole timeout', async () => {
    const late = runtime.invoke('placement', { ms: 5_000 });
    const next = runtime.invoke('placement', { ms: 600 });
    await expect(late).rejects.toMatchObject({ name: expect.stringMatching(/TimeoutError$/) });
    expect(((await next) as Reply).mostAtOnce).toBeGreaterThanOrEqual(1);
  });
});

/**
 * A handler that never settles (no middleware of its own to give up early): the runtime fails it at its timeout and,
 * as Lambda kills that container, retires it, so the next invocation runs in a new one instead of waiting forever.
 */
describe('a hung invocation', () => {
  it('fails at its timeout and the next invocation gets a container of its own', async () => {
    const started: string[] = [];
    const runtime = fixtureRuntime({
      handlers: {
        placement: async (event) => {
          const { hang, id } = event as { hang: boolean; id: string };
          started.push(id);
          if (hang) await new Promise(() => undefined);
          return id;
        },
      },
      maxContainers: { placement: 1 },
      timeoutMs: { placement: 300 },
    });
    const hung = runtime.invoke('placement', { hang: true, id: 'hung' });
    const next = runtime.invoke('placement', { hang: false, id: 'next' });
    await expect(hung).rejects.toBeInstanceOf(FunctionTimeoutError);
    await expect(next).resolves.toBe('next');
    await expect(runtime.invoke('placement', { hang: false, id: 'after' })).resolves.toBe('after');
    expect(started).toEqual(['hung', 'next', 'after']);
    await runtime.stop();
  });
});
