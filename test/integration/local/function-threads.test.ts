import { join } from 'node:path';
import { PromMetrics } from '../../../lib/metrics/prom-metrics';
import { FunctionRuntime } from '../../../lib/local/function-runtime';
import { FunctionThreadError } from '../../../lib/local/function-thread';
import { memoryLog, type Log } from '../../../lib/observability/log';
import { findProjectRoot } from '../../../lib/local/paths';

/**
 * FunctionRuntime with `threads`: a function runs in a worker thread of its own (lib/local/function-worker.mjs),
 * reached by structured-cloned events and results. The fixture handler records through the real
 * createFunctionMetrics, so the counts asserted in `registry` crossed from the thread.
 */

const FIXTURE = join(__dirname, 'fixtures', 'threaded-handler.ts');

function recordingLogger(): Log & { errors: string[] } {
  const errors: string[] = [];
  return { ...memoryLog(), errors, error: (message) => void errors.push(message) };
}

async function invocations(registry: PromMetrics, result: 'ok' | 'error'): Promise<number> {
  const metric = (await registry.registry.getMetricsAsJSON()).find((m) => m.name === 'tmc_function_invocations_total');
  return metric?.values.find((v) => v.labels.function === 'placement' && v.labels.result === result)?.value ?? 0;
}

async function durationCount(registry: PromMetrics): Promise<number> {
  const metric = (await registry.registry.getMetricsAsJSON()).find((m) => m.name === 'tmc_function_duration_seconds');
  return (
    metric?.values.find((v) => 'metricName' in v && v.metricName === 'tmc_function_duration_seconds_count')?.value ?? 0
  );
}

describe('functions in worker threads', () => {
  const registry = new PromMetrics();
  const logger = recordingLogger();
  let runtime: FunctionRuntime;

  beforeAll(() => {
    // Set before the thread starts, as the stack sets the functions' environment before any invocation.
    process.env.TMC_TABLE_NAME_FOR_TEST = 'tmc-threads-table';
    runtime = new FunctionRuntime({
      projectRoot: findProjectRoot(),
      region: 'eu-west-1',
      logger,
      threads: ['placement'],
      handlerModules: { placement: FIXTURE },
      metrics: registry,
    });
  });
  afterAll(async () => {
    await runtime.stop();
    delete process.env.TMC_TABLE_NAME_FOR_TEST;
  });

  it('runs the handler in its own thread with a Lambda context, concurrently, and returns its results', async () => {
    expect(runtime.threaded('placement')).toBe(true);
    expect(runtime.threaded('sync-apply')).toBe(false);
    const results = (await Promise.all(
      [1, 2, 3].map((n) => runtime.invoke('placement', { action: 'echo', value: { n } })),
    )) as Array<Record<string, unknown>>;
    expect(results.map((r) => r.value)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(results.map((r) => r.invocations).sort()).toEqual([1, 2, 3]);
    for (const result of results) {
      expect(result.isMainThread).toBe(false);
      expect(result.functionName).toBe('tmc-local-placement');
      expect(result.remainingMs).toBeGreaterThan(0);
    }
  });

  it('gives the thread the environment set before it started', async () => {
    await expect(runtime.invoke('placement', { action: 'env' })).resolves.toEqual({ table: 'tmc-threads-table' });
  });

  it("reports the thread's own heap, after a full collection when asked, and its containers", async () => {
    const before = (await runtime.heaps({ collectGarbage: true })).threads.placement;
    expect(before.containers.placement).toBeGreaterThanOrEqual(1);
    await runtime.invoke('placement', { action: 'retain', value: 20 });
    const after = (await runtime.heaps({ collectGarbage: true })).threads.placement;
    // 20 MB retained there; the main thread's heap, which does not hold them, is not what was measured.
    expect(after.heap.usedBytes - before.heap.usedBytes).toBeGreaterThan(19 * 1024 * 1024);
    expect(after.heap.usedBytes).toBeLessThanOrEqual(after.heap.totalBytes);
  });

  it("rebuilds the handler's error with its name, message, stack and code", async () => {
    const error = (await runtime
      .invoke('placement', { action: 'throw', value: 'web' })
      .catch((err: unknown) => err)) as Error & { code?: string };
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('PlacementRejected');
    expect(error.message).toBe('rejected web');
    expect(error.code).toBe('E_TEST');
    expect(error.stack).toContain('threaded-handler.ts');
  });

  it('forwards every metric into the shared registry before the invocation resolves', async () => {
    const okBefore = await invocations(registry, 'ok');
    const errorBefore = await invocations(registry, 'error');
    const observedBefore = await durationCount(registry);
    await Promise.all([1, 2, 3, 4, 5].map((n) => runtime.invoke('placement', { action: 'echo', value: n })));
    await runtime.invoke('placement', { action: 'throw', value: 'x' }).catch(() => undefined);
    // No waiting: the batch of an invocation is posted before its result.
    expect((await invocations(registry, 'ok')) - okBefore).toBe(5);
    expect((await invocations(registry, 'error')) - errorBefore).toBe(1);
    expect((await durationCount(registry)) - observedBefore).toBe(6);
  });

  it('fails an invocation whose result cannot be cloned, and the thread goes on', async () => {
    await expect(runtime.invoke('placement', { action: 'uncloneable' })).rejects.toMatchObject({
      name: 'DataCloneError',
    });
    await expect(runtime.invoke('placement', { action: 'echo', value: 'after' })).resolves.toMatchObject({
      value: 'after',
    });
  });

  it('fails the in-flight invocations of a crashed thread, logs it, and starts a new thread on the next invocation', async () => {
    const before = (await runtime.invoke('placement', { action: 'echo' })) as { invocations: number };
    expect(before.invocations).toBeGreaterThan(1);
    const inFlight = runtime.invoke('placement', { action: 'wait', ms: 10_000 });
    const crashing = runtime.invoke('placement', { action: 'crash' });
    await expect(inFlight).rejects.toBeInstanceOf(FunctionThreadError);
    await expect(crashing).rejects.toThrow(/placement's thread crashed \(the container breaks\)/);
    expect(logger.errors).toEqual([expect.stringContaining("Function placement's thread crashed")]);
    // A new container: its module state starts again.
    await expect(runtime.invoke('placement', { action: 'echo' })).resolves.toMatchObject({ invocations: 1 });
  });

  it('stops after its in-flight invocations, keeping their metrics, and refuses new ones', async () => {
    const okBefore = await invocations(registry, 'ok');
    const running = runtime.invoke('placement', { action: 'wait', ms: 300 });
    // Once the thread has the invocation: stop must wait for it, not drop it.
    await new Promise((resolve) => setImmediate(resolve));
    await runtime.stop();
    await expect(running).resolves.toEqual({ waited: 300 });
    expect((await invocations(registry, 'ok')) - okBefore).toBe(1);
    await expect(runtime.invoke('placement', { action: 'echo' })).rejects.toBeInstanceOf(FunctionThreadError);
  });
});
