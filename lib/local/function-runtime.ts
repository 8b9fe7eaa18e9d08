import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Metrics } from '../ports/telemetry';
import { FUNCTIONS, type FunctionName } from '../runtime/resources';
import { ContainerPool, containerStarter, type LambdaHandler } from './container-pool';
import { FunctionThread, type FunctionThreadHeap } from './function-thread';
import { runAs } from './iam';
import { makeLambdaContext, runInvocation } from './lambda-context';
import type { Log } from '../observability/log';

/** A function that is not there yet (its folder is missing): the HTTP server answers 503, pollers leave messages. */
export class FunctionMissingError extends Error {
  constructor(readonly functionName: FunctionName) {
    super(`Function ${functionName} has no functions/${functionName}/handler.ts yet`);
    this.name = 'FunctionMissingError';
  }
}

export interface FunctionRuntimeOptions {
  projectRoot: string;
  region: string;
  logger: Log;
  /** Handlers by name, used instead of functions/<name>/handler.ts (tests of the stack's plumbing). */
  handlers?: Partial<Record<FunctionName, LambdaHandler>>;
  /** Called around every invocation, so the stack can tell when it is idle. */
  onStart?: () => void;
  onEnd?: () => void;
  /**
   * Functions run in a worker thread (lib/local/function-thread.ts) instead of this one; a function with a handler in
   * `handlers` stays here. Needs `metrics`.
   */
  threads?: readonly FunctionName[];
  /**
   * `shared` (default): the threaded functions share one worker thread, so one isolate compiles and collects their
   * common code (the AWS SDK, the kube client, zod); `own`: a thread each.
   */
  threadLayout?: 'shared' | 'own';
  /** The functions' threads' young generation, in MiB (lib/local/function-thread.ts); V8's default when omitted. */
  youngGenerationMb?: number;
  /** At most this many containers of a function at once (lib/local/container-pool.ts); no limit for the others. */
  maxContainers?: Partial<Record<FunctionName, number>>;
  /** A function's timeout in ms instead of its configured one (tests of what a timeout does). */
  timeoutMs?: Partial<Record<FunctionName, number>>;
  /** A module per function instead of functions/<name>/handler.ts (tests: a handler file a thread can load). */
  handlerModules?: Partial<Record<FunctionName, string>>;
  /** Where the threads' metric updates go: the registry this process's functions share. */
  metrics?: Metrics;
  /** Threads check their functions' AWS calls against their grants (lib/local/iam.ts); in-process calls are checked by the stack's hook. */
  iam?: boolean;
}

/**
 * Runs the functions the way Lambda runs them: the handler module imported once, the same event shapes, a context
 * whose deadline is the function's timeout, and one invocation at a time per container: invocations that overlap run
 * in containers of their own (lib/local/container-pool.ts), each with its own deps and caches, kept warm for the next.
 * In this thread, or with `threads` in a worker thread (apart from this thread's module instances, events and results
 * structured-cloned). The timeout is enforced where the invocation runs, from when it has a container: the caller
 * gets a timeout error, and the container, which cannot be killed as Lambda would kill it, is retired
 * (lib/local/container-pool.ts), so the next invocation does not wait for the late one.
 */
export class FunctionRuntime {
  private readonly loaded = new Map<FunctionName, Promise<ContainerPool | undefined>>();
  private readonly reportedMissing = new Set<FunctionName>();
  private readonly threads = new Map<FunctionName, FunctionThread>();
  private active = 0;

  constructor(private readonly options: FunctionRuntimeOptions) {}

  /** Invocations running now. */
  get running(): number {
    return this.active;
  }

  handlerPath(name: FunctionName): string {
    return this.options.handlerModules?.[name] ?? join(this.options.projectRoot, 'functions', name, 'handler.ts');
  }

  /** The functions whose worker thread is started now. */
  get startedThreads(): FunctionName[] {
    return [...this.threads].filter(([, thread]) => thread.started).map(([name]) => name);
  }

  /** Whether `name` runs in a worker thread of its own. */
  threaded(name: FunctionName): boolean {
    return this.options.handlers?.[name] === undefined && (this.options.threads?.includes(name) ?? false);
  }

  async available(name: FunctionName): Promise<boolean> {
    // A thread loads its handler on its first invocation; a module that does not load fails those invocations.
    if (this.threaded(name)) return this.handlerExists(name);
    return (await this.load(name)) !== undefined;
  }

  async invoke(name: FunctionName, event: unknown): Promise<unknown> {
    const timeoutMs = this.options.timeoutMs?.[name] ?? FUNCTIONS[name].timeoutSeconds * 1000;
    const run = await this.runner(name, event, timeoutMs);
    this.active += 1;
    this.options.onStart?.();
    try {
      return await run();
    } finally {
      this.active -= 1;
      this.options.onEnd?.();
    }
  }

  /**
   * Starts the threads of every threaded function that exists, side by side: each loads its own module graph (the
   * AWS SDK, the kube client), which on first use would otherwise delay the first invocation of each in turn.
   * Resolves when every one has loaded its handler (or failed to start: its next invocation reports it).
   */
  async warmThreads(): Promise<void> {
    const warming: Array<Promise<void>> = [];
    for (const name of this.options.threads ?? []) {
      if (this.threaded(name) && this.handlerExists(name)) warming.push(this.thread(name).warm());
    }
    await Promise.all(warming);
  }

  /**
   * Each running functions' thread's heap and containers (by the thread's label), and the containers started in this
   * thread: what the benchmark's churn phase samples to tell which isolate grows.
   */
  async heaps(
    options: { collectGarbage?: boolean } = {},
  ): Promise<{ threads: Record<string, FunctionThreadHeap>; inProcessContainers: Record<string, number> }> {
    const threads: Record<string, FunctionThreadHeap> = {};
    for (const thread of new Set(this.threads.values())) {
      const heap = await thread.heap(options);
      if (heap !== undefined) threads[thread.label] = heap;
    }
    const inProcessContainers: Record<string, number> = {};
    for (const [name, pending] of this.loaded) {
      const pool = await pending;
      if (pool !== undefined) inProcessContainers[name] = pool.size;
    }
    return { threads, inProcessContainers };
  }

  /** Ends the worker threads after their in-flight invocations; in-process handlers need nothing. */
  async stop(): Promise<void> {
    await Promise.all([...new Set(this.threads.values())].map((thread) => thread.stop()));
  }

  private async runner(name: FunctionName, event: unknown, timeoutMs: number): Promise<() => Promise<unknown>> {
    if (this.threaded(name)) {
      if (!this.threads.has(name) && !this.handlerExists(name)) throw new FunctionMissingError(name);
      const thread = this.thread(name);
      return () => thread.invoke(name, event, timeoutMs);
    }
    const pool = await this.load(name);
    if (pool === undefined) throw new FunctionMissingError(name);
    // The invocation's AWS calls are checked against this function's grants (lib/local/iam.ts).
    return () =>
      pool.run(
        (handler) => {
          const context = makeLambdaContext(FUNCTIONS[name], this.options.region, timeoutMs);
          return runAs(name, () => runInvocation(context, () => handler(event, context)));
        },
        { functionName: name, timeoutMs },
      );
  }

  /** `name`'s thread: its own, or the one it shares with the other threaded functions that exist. */
  private thread(name: FunctionName): FunctionThread {
    let thread = this.threads.get(name);
    if (thread !== undefined) return thread;
    const metrics = this.options.metrics;
    if (metrics === undefined)
      throw new Error(`Function ${name} runs in a thread but the runtime was given no metrics to forward to`);
    const names =
      this.options.threadLayout === 'own'
        ? [name]
        : (this.options.threads ?? []).filter((n) => this.threaded(n) && (n === name || this.handlerExists(n)));
    thread = new FunctionThread({
      functions: names.map((n) => ({
        name: n,
        handlerPath: this.handlerPath(n),
        maxContainers: this.options.maxContainers?.[n],
      })),
      projectRoot: this.options.projectRoot,
      region: this.options.region,
      timeoutMs: Math.max(...names.map((n) => FUNCTIONS[n].timeoutSeconds * 1000)),
      youngGenerationMb: this.options.youngGenerationMb,
      metrics,
      logger: this.options.logger,
      iam: this.options.iam,
    });
    for (const n of names) this.threads.set(n, thread);
    return thread;
  }

  private handlerExists(name: FunctionName): boolean {
    const path = this.handlerPath(name);
    if (existsSync(path)) return true;
    this.reportMissing(name, path);
    return false;
  }

  private reportMissing(name: FunctionName, path: string): void {
    if (this.reportedMissing.has(name)) return;
    this.reportedMissing.add(name);
    this.options.logger.warn(`Function ${name} is not built yet; its routes answer 503 and its queue is not consumed`, {
      path,
    });
  }

  private load(name: FunctionName): Promise<ContainerPool | undefined> {
    let pending = this.loaded.get(name);
    if (pending === undefined) {
      pending = this.importHandler(name).then((handler) =>
        handler === undefined
          ? undefined
          : new ContainerPool(containerStarter(handler), this.options.maxContainers?.[name]),
      );
      this.loaded.set(name, pending);
    }
    return pending;
  }

  private async importHandler(name: FunctionName): Promise<LambdaHandler | undefined> {
    const given = this.options.handlers?.[name];
    if (given !== undefined) return given;
    const path = this.handlerPath(name);
    if (!existsSync(path)) {
      this.reportMissing(name, path);
      return undefined;
    }
    // A dynamic import inside a function works both under tsx (ESM) and jest (compiled to require).
    const mod: unknown = await import(path);
    const handler = typeof mod === 'object' && mod !== null ? (mod as { handler?: unknown }).handler : undefined;
    if (typeof handler !== 'function') {
      this.options.logger.error(`Function ${name} does not export a handler`, { path });
      return undefined;
    }
    return handler as LambdaHandler;
  }
}
