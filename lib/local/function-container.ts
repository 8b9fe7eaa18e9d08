import { pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import { z } from 'zod';
import { ForwardingMetrics } from '../metrics/forwarded-metrics';
import { useForwardedMetrics } from '../runtime/metrics';
import { FUNCTIONS, type FunctionName } from '../runtime/resources';
import { ContainerPool, containerStarter, type LambdaHandler } from './container-pool';
import { enforceLocalIam, runAs } from './iam';
import { makeLambdaContext, runInvocation } from './lambda-context';
import { collectGarbage, threadHeapNow } from './thread-heap';

/**
 * The inside of a functions' worker thread (started by lib/local/function-worker.mjs): installs the metrics that
 * forward to the main thread's registry, imports each function's handler once and runs invocations concurrently,
 * each in a container of its own (lib/local/container-pool.ts), as the in-process runtime does.
 *
 * To the parent: { type: 'ready' } or { type: 'failed', error } once; { type: 'metrics', updates } per tick;
 *                { type: 'result', id, ok: true, value } or { type: 'result', id, ok: false, error } per invocation
 *                (after the metrics it recorded); { type: 'heap', id, heap, containers } per heap request;
 *                { type: 'stopped' } after the last.
 * From the parent: { op: 'invoke', id, name, event, timeoutMs }; { op: 'heap', id, collectGarbage } (this isolate's heap,
 *                after a full collection if asked, and each function's containers, lib/local/thread-heap.ts); { op: 'stop' } (waits for running invocations,
 *                flushes).
 */

const FunctionNameSchema = z.enum(Object.keys(FUNCTIONS) as [FunctionName, ...FunctionName[]]);

export const ContainerData = z.object({
  /** The functions this thread runs, each from its handler module. */
  functions: z
    .array(
      z.object({
        name: FunctionNameSchema,
        handlerPath: z.string(),
        /** At most this many containers at once (lib/local/container-pool.ts); no limit when absent. */
        maxContainers: z.number().int().positive().optional(),
      }),
    )
    .min(1),
  region: z.string(),
  /** Checks the function's AWS calls against its grants, as the main thread does for in-process functions. */
  iam: z.boolean().default(false),
});
export type ContainerData = z.infer<typeof ContainerData>;

const ParentMessage = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('invoke'),
    id: z.number().int(),
    name: FunctionNameSchema,
    event: z.unknown(),
    timeoutMs: z.number().int().positive(),
  }),
  z.object({ op: z.literal('heap'), id: z.number().int(), collectGarbage: z.boolean().default(false) }),
  z.object({ op: z.literal('stop') }),
]);

export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** Errors cross the thread as plain data; the parent rebuilds them (an Error's own fields do not survive cloning). */
export function describeError(err: unknown): ErrorData {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, stack: err.stack, ...(typeof code === 'string' ? { code } : {}) };
}

async function importHandler(path: string): Promise<LambdaHandler> {
  const mod: unknown = await import(pathToFileURL(path).href);
  const handler = typeof mod === 'object' && mod !== null ? (mod as { handler?: unknown }).handler : undefined;
  if (typeof handler !== 'function') throw new TypeError(`${path} does not export a handler: export const handler = …`);
  return handler as LambdaHandler;
}

export async function runFunctionContainer(port: MessagePort, raw: unknown): Promise<void> {
  const data = ContainerData.parse(raw);
  const metrics = new ForwardingMetrics((updates) => port.postMessage({ type: 'metrics', updates }));
  useForwardedMetrics(metrics);
  // Before the handler loads: its clients are built after, and each gets the check when built.
  if (data.iam) enforceLocalIam({ env: process.env });
  const pools = new Map<FunctionName, ContainerPool>();
  try {
    for (const fn of data.functions)
      pools.set(fn.name, new ContainerPool(containerStarter(await importHandler(fn.handlerPath)), fn.maxContainers));
  } catch (err) {
    port.postMessage({ type: 'failed', error: describeError(err) });
    port.close();
    return;
  }

  const running = new Set<Promise<void>>();
  const invoke = async (id: number, name: FunctionName, event: unknown, timeoutMs: number): Promise<void> => {
    let reply: Record<string, unknown>;
    try {
      const pool = pools.get(name);
      if (pool === undefined) throw new Error(`Function ${name} does not run in this thread`);
      // The clock starts with the container (lib/local/container-pool.ts), for the context's deadline too.
      const value = await pool.run(
        (handler) => {
          const context = makeLambdaContext(FUNCTIONS[name], data.region, timeoutMs);
          return runAs(name, () => runInvocation(context, () => handler(event, context)));
        },
        { functionName: name, timeoutMs },
      );
      reply = { type: 'result', id, ok: true, value };
    } catch (err) {
      reply = { type: 'result', id, ok: false, error: describeError(err) };
    }
    // The invocation's metrics first: messages arrive in order, so they are in the registry when the caller resumes.
    metrics.flush();
    try {
      port.postMessage(reply);
    } catch (err) {
      // A result that cannot be cloned (a function, a socket) fails that invocation, as Lambda's JSON encoding would.
      port.postMessage({ type: 'result', id, ok: false, error: describeError(err) });
    }
  };

  port.on('message', (rawMessage: unknown) => {
    const message = ParentMessage.parse(rawMessage);
    if (message.op === 'invoke') {
      const done = invoke(message.id, message.name, message.event, message.timeoutMs).finally(() =>
        running.delete(done),
      );
      running.add(done);
      return;
    }
    if (message.op === 'heap') {
      if (message.collectGarbage) collectGarbage();
      const containers = Object.fromEntries([...pools].map(([name, pool]) => [name, pool.size]));
      port.postMessage({ type: 'heap', id: message.id, heap: threadHeapNow(), containers });
      return;
    }
    void Promise.allSettled([...running]).then(() => {
      metrics.flush();
      port.postMessage({ type: 'stopped' });
    });
  });
  port.postMessage({ type: 'ready' });
}
