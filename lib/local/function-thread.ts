import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { applyMetricUpdates, MetricUpdate } from '../metrics/forwarded-metrics';
import type { Metrics } from '../ports/telemetry';
import type { FunctionName } from '../runtime/resources';
import type { Log } from '../observability/log';
import { ThreadHeapSchema } from './thread-heap';
import { youngGenerationLimits } from './young-generation';

/** The functions' thread could not start, crashed with the invocation in flight, or is stopped. */
export class FunctionThreadError extends Error {
  override name = 'FunctionThreadError';

  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** What the worker posts, parsed: it is another thread's data (lib/local/function-container.ts). */
const RemoteError = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  code: z.string().optional(),
});
const Result = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('result'), id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({ type: z.literal('result'), id: z.number().int(), ok: z.literal(false), error: RemoteError }),
]);
/** A thread's answer to a heap request: its isolate's heap, and containers started per function. */
const HeapReply = z.object({
  heap: ThreadHeapSchema,
  containers: z.record(z.string(), z.number().int().nonnegative()),
});
const WorkerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('failed'), error: RemoteError }),
  z.object({ type: z.literal('metrics'), updates: z.array(MetricUpdate) }),
  Result,
  HeapReply.extend({ type: z.literal('heap'), id: z.number().int() }),
  z.object({ type: z.literal('stopped') }),
]);
type RemoteErrorData = z.infer<typeof RemoteError>;

/** The handler's error as it was thrown there: same name, message, stack (and `code`), so callers treat it alike. */
export function rebuildError(error: RemoteErrorData): Error {
  const err = new Error(error.message);
  err.name = error.name;
  if (error.stack !== undefined) err.stack = error.stack;
  return Object.assign(err, error.code === undefined ? {} : { code: error.code });
}

/** How long `stop` waits, beyond the function's timeout, for in-flight invocations before terminating the thread. */
const STOP_GRACE_MS = 5_000;

/** lib code cannot use import.meta (jest compiles to CommonJS), so the script is found from the project root. */
export function functionWorkerScript(projectRoot: string): string {
  return join(projectRoot, 'lib', 'local', 'function-worker.mjs');
}

export interface FunctionThreadOptions {
  /** The functions the thread runs, each from its handler module. */
  functions: ReadonlyArray<{ name: FunctionName; handlerPath: string; maxContainers?: number }>;
  projectRoot: string;
  region: string;
  /** The longest of the functions' timeouts: how long `stop` lets an invocation finish. */
  timeoutMs: number;
  /** The thread's young generation in MiB (lib/local/young-generation.ts); V8's default when omitted or 0. */
  youngGenerationMb?: number;
  /** Where the thread's metric updates are applied (the stack's shared registry). */
  metrics: Metrics;
  logger: Log;
  /** Checks the function's AWS calls against its grants inside the thread (lib/local/iam.ts). */
  iam?: boolean;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** A functions' thread's heap and how many containers each of its functions has started. */
export type FunctionThreadHeap = z.infer<typeof HeapReply>;

/** One started worker ("container"): its pending invocations by id and how it ends. */
interface Container {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  stopped: Promise<void>;
  exited: Promise<void>;
}

/**
 * Functions in a worker thread of their own, apart from the main thread's module instances, reached only through
 * structured-cloned events and results; inside, each invocation runs in a container of its own
 * (lib/local/function-container.ts). Started by `warm` or the first invocation; a thread that crashes fails its
 * in-flight invocations, is logged, and the next invocation starts a new one (new containers). The worker gets a copy
 * of process.env taken when it starts, after the stack has set the functions' environment.
 */
export class FunctionThread {
  private current: Container | undefined;
  private nextId = 1;
  private stopping = false;
  /** The thread's name (bench/support/thread-cpu.ts reads it): its function's, or `functions` for several. */
  readonly label: string;
  /** How messages name the thread. */
  private readonly what: string;

  constructor(private readonly options: FunctionThreadOptions) {
    const names = options.functions.map((f) => f.name);
    this.label = names.length === 1 ? names[0] : 'functions';
    this.what = names.length === 1 ? `Function ${names[0]}'s thread` : `The thread of functions ${names.join(', ')}`;
  }

  /** A thread is started (or starting) for the function now. */
  get started(): boolean {
    return this.current !== undefined;
  }

  /**
   * Starts the thread now, so its modules load while the caller does something else. Resolves once the handler is
   * loaded, or its thread failed to start (the failure is reported by the next invoke).
   */
  warm(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const container = (this.current ??= this.start());
    return container.ready.catch(() => undefined);
  }

  async invoke(name: FunctionName, event: unknown, timeoutMs: number): Promise<unknown> {
    if (this.stopping)
      throw new FunctionThreadError(`Function ${name} is stopped with the local stack; invoke it on a running stack`);
    const container = (this.current ??= this.start());
    await container.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      container.pending.set(id, { resolve, reject });
      try {
        container.worker.postMessage({ op: 'invoke', id, name, event, timeoutMs });
      } catch (err) {
        // An event that cannot be cloned never left this thread (Lambda would reject a non-JSON payload).
        container.pending.delete(id);
        reject(
          new FunctionThreadError(
            `The event for function ${name} cannot cross to its thread: ${err instanceof Error ? err.message : String(err)}`,
            err,
          ),
        );
      }
    });
  }

  /**
   * The thread's heap and containers now (after a full collection with `collectGarbage`); undefined when no thread is
   * running (not started yet, or stopped).
   */
  async heap(options: { collectGarbage?: boolean } = {}): Promise<FunctionThreadHeap | undefined> {
    const container = this.current;
    if (container === undefined || this.stopping) return undefined;
    await container.ready;
    const id = this.nextId++;
    const reply = await new Promise<unknown>((resolve, reject) => {
      container.pending.set(id, { resolve, reject });
      container.worker.postMessage({ op: 'heap', id, collectGarbage: options.collectGarbage ?? false });
    });
    return HeapReply.parse(reply);
  }

  /** Lets in-flight invocations finish (up to the function's timeout), collects the last metrics, ends the thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    const container = this.current;
    if (container === undefined) return;
    const started = await container.ready.then(
      () => true,
      () => false,
    );
    if (started) {
      container.worker.postMessage({ op: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.options.logger.warn(
            `${this.what} did not finish its invocations within their timeout at stop; it is terminated`,
          );
          resolve();
        }, this.options.timeoutMs + STOP_GRACE_MS);
      });
      await Promise.race([container.stopped, container.exited, late]);
      clearTimeout(timer);
    }
    await container.worker.terminate();
    await container.exited;
  }

  private start(): Container {
    const { logger } = this.options;
    const what = this.what;
    const script = functionWorkerScript(this.options.projectRoot);
    if (!existsSync(script))
      throw new FunctionThreadError(`${what} cannot start: its worker script ${script} is missing`);
    // The environment named explicitly: Worker's default is the process's real one, which under jest is not the
    // process.env the stack (and a test) set; a copy now, as a Lambda container gets its configuration at start.
    const worker = new Worker(script, {
      workerData: {
        label: this.label,
        functions: this.options.functions,
        region: this.options.region,
        iam: this.options.iam ?? false,
      },
      env: { ...process.env },
      ...youngGenerationLimits(this.options.youngGenerationMb ?? 0),
    });
    const pending = new Map<number, Pending>();
    let markReady!: () => void;
    let failStart!: (err: Error) => void;
    let markStopped!: () => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // Awaited by every invocation; a start failure is theirs to report.
    ready.catch(() => undefined);
    const stopped = new Promise<void>((resolve) => (markStopped = resolve));
    const container: Container = {
      worker,
      ready,
      pending,
      stopped,
      exited: new Promise((resolve) => worker.once('exit', () => resolve())),
    };
    /** Set once the container is done for (failed to load, crashed, exited): the first reason is the one reported. */
    let ended = false;

    const end = (err: FunctionThreadError): void => {
      failStart(err);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      if (this.current === container) this.current = undefined;
      if (!ended && !this.stopping) logger.error(err.message, { error: err.cause ?? err });
      ended = true;
    };
    const receive = (raw: unknown): void => {
      const parsed = WorkerMessage.safeParse(raw);
      if (!parsed.success) {
        logger.warn(`${what} sent a message this runtime does not understand; it is ignored`, {
          error: parsed.error,
        });
        return;
      }
      const message = parsed.data;
      switch (message.type) {
        case 'ready':
          markReady();
          return;
        case 'failed':
          end(
            new FunctionThreadError(
              `${what} did not load: ${message.error.message}; fix the handler, the next invocation loads it again`,
              rebuildError(message.error),
            ),
          );
          return;
        case 'metrics':
          try {
            applyMetricUpdates(this.options.metrics, message.updates);
          } catch (err) {
            logger.warn(`Metrics from ${what.charAt(0).toLowerCase()}${what.slice(1)} could not be recorded`, {
              error: err,
            });
          }
          return;
        case 'result': {
          const waiting = pending.get(message.id);
          if (waiting === undefined) return;
          pending.delete(message.id);
          if (message.ok) waiting.resolve(message.value);
          else waiting.reject(rebuildError(message.error));
          return;
        }
        case 'heap': {
          const waiting = pending.get(message.id);
          pending.delete(message.id);
          waiting?.resolve({ heap: message.heap, containers: message.containers });
          return;
        }
        case 'stopped':
          markStopped();
          return;
      }
    };

    worker.on('message', receive);
    worker.on('error', (err) =>
      end(
        new FunctionThreadError(
          `${what} crashed (${err.message}); its in-flight invocations failed and the next one starts a new thread`,
          err,
        ),
      ),
    );
    worker.once('exit', (code) =>
      end(
        new FunctionThreadError(
          `${what} exited with code ${code}; its in-flight invocations failed and the next one starts a new thread`,
        ),
      ),
    );
    return container;
  }
}
