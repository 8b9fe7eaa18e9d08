import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { applyMetricUpdates, MetricUpdate } from '../metrics/forwarded-metrics';
import type { Metrics } from '../ports/telemetry';
import type { FunctionName } from '../runtime/resources';
import type { Log } from '../observability/log';

/** The function's thread could not start, crashed with the invocation in flight, or is stopped. */
export class FunctionThreadError extends Error {
  override name = 'FunctionThreadError';

  constructor(
    readonly functionName: FunctionName,
    message: string,
    cause?: unknown,
  ) {
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
const WorkerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('failed'), error: RemoteError }),
  z.object({ type: z.literal('metrics'), updates: z.array(MetricUpdate) }),
  Result,
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
  name: FunctionName;
  projectRoot: string;
  handlerPath: string;
  region: string;
  /** The function's timeout: how long `stop` lets an invocation finish. */
  timeoutMs: number;
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

/** One started worker ("container"): its pending invocations by id and how it ends. */
interface Container {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  stopped: Promise<void>;
  exited: Promise<void>;
}

/**
 * One function in its own worker thread, as Lambda runs it in its own container: own module instances and deps,
 * reached only through structured-cloned events and results. Started by `warm` or the first invocation; a thread that crashes
 * fails its in-flight invocations, is logged, and the next invocation starts a new one (a new container). The worker
 * gets a copy of process.env taken when it starts, after the stack has set the functions' environment.
 */
export class FunctionThread {
  private current: Container | undefined;
  private nextId = 1;
  private stopping = false;

  constructor(private readonly options: FunctionThreadOptions) {}

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

  async invoke(event: unknown, timeoutMs: number): Promise<unknown> {
    if (this.stopping)
      throw new FunctionThreadError(
        this.options.name,
        `Function ${this.options.name} is stopped with the local stack; invoke it on a running stack`,
      );
    const container = (this.current ??= this.start());
    await container.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      container.pending.set(id, { resolve, reject });
      try {
        container.worker.postMessage({ op: 'invoke', id, event, timeoutMs });
      } catch (err) {
        // An event that cannot be cloned never left this thread (Lambda would reject a non-JSON payload).
        container.pending.delete(id);
        reject(
          new FunctionThreadError(
            this.options.name,
            `The event for function ${this.options.name} cannot cross to its thread: ${err instanceof Error ? err.message : String(err)}`,
            err,
          ),
        );
      }
    });
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
            `Function ${this.options.name} did not finish its invocations within its timeout at stop; its thread is terminated`,
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
    const { name, logger } = this.options;
    const script = functionWorkerScript(this.options.projectRoot);
    if (!existsSync(script))
      throw new FunctionThreadError(
        name,
        `Function ${name} cannot run in a thread: its worker script ${script} is missing`,
      );
    // The environment named explicitly: Worker's default is the process's real one, which under jest is not the
    // process.env the stack (and a test) set; a copy now, as a Lambda container gets its configuration at start.
    const worker = new Worker(script, {
      workerData: {
        name,
        handlerPath: this.options.handlerPath,
        region: this.options.region,
        iam: this.options.iam ?? false,
      },
      env: { ...process.env },
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
        logger.warn(`Function ${name}'s thread sent a message this runtime does not understand; it is ignored`, {
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
              name,
              `Function ${name} did not load in its thread: ${message.error.message}; fix functions/${name}/handler.ts, the next invocation loads it again`,
              rebuildError(message.error),
            ),
          );
          return;
        case 'metrics':
          try {
            applyMetricUpdates(this.options.metrics, message.updates);
          } catch (err) {
            logger.warn(`Metrics from function ${name}'s thread could not be recorded`, { error: err });
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
        case 'stopped':
          markStopped();
          return;
      }
    };

    worker.on('message', receive);
    worker.on('error', (err) =>
      end(
        new FunctionThreadError(
          name,
          `Function ${name}'s thread crashed (${err.message}); its in-flight invocations failed and the next one starts a new thread`,
          err,
        ),
      ),
    );
    worker.once('exit', (code) =>
      end(
        new FunctionThreadError(
          name,
          `Function ${name}'s thread exited with code ${code}; its in-flight invocations failed and the next one starts a new thread`,
        ),
      ),
    );
    return container;
  }
}
