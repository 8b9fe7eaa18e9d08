import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { Metrics } from '../ports/telemetry';
import { FUNCTIONS, type FunctionName } from '../runtime/resources';
import { FunctionThread } from './function-thread';
import { runAs } from './iam';
import { makeLambdaContext, runInvocation } from './lambda-context';
import type { Log } from '../observability/log';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** A function that is not there yet (its folder is missing): the HTTP server answers 503, pollers leave messages. */
export class FunctionMissingError extends Error {
  constructor(readonly functionName: FunctionName) {
    super(`Function ${functionName} has no functions/${functionName}/handler.ts yet`);
    this.name = 'FunctionMissingError';
  }
}

/** The invocation outlived the function's timeout, as Lambda would report it. */
export class FunctionTimeoutError extends Error {
  constructor(
    readonly functionName: FunctionName,
    readonly timeoutMs: number,
  ) {
    super(`Function ${functionName} timed out after ${timeoutMs} ms`);
    this.name = 'FunctionTimeoutError';
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
   * Functions run each in its own worker thread (lib/local/function-thread.ts) instead of this one; a function with a
   * handler in `handlers` stays here. Needs `metrics`.
   */
  threads?: readonly FunctionName[];
  /** A module per function instead of functions/<name>/handler.ts (tests: a handler file a thread can load). */
  handlerModules?: Partial<Record<FunctionName, string>>;
  /** Where the threads' metric updates go: the registry this process's functions share. */
  metrics?: Metrics;
  /** Threads check their functions' AWS calls against their grants (lib/local/iam.ts); in-process calls are checked by the stack's hook. */
  iam?: boolean;
}

/**
 * Runs the functions the way Lambda runs them: the handler module imported once (a warm container), the same event
 * shapes, a context whose deadline is the function's timeout. In this thread, or with `threads` in a worker thread
 * of its own (its own module instances and deps, events and results structured-cloned); either way invocations run
 * concurrently, as one container each would. Lambda would kill a timed-out invocation; here it cannot be killed, so
 * the caller gets a timeout error and the late result is dropped.
 */
export class FunctionRuntime {
  private readonly loaded = new Map<FunctionName, Promise<LambdaHandler | undefined>>();
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
    const fn = FUNCTIONS[name];
    const timeoutMs = fn.timeoutSeconds * 1000;
    const run = await this.runner(name, event, timeoutMs);
    this.active += 1;
    this.options.onStart?.();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new FunctionTimeoutError(name, timeoutMs)), timeoutMs);
        timer.unref();
      });
      return await Promise.race([Promise.resolve().then(run), timeout]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
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
      if (this.threaded(name) && this.handlerExists(name))
        warming.push(this.thread(name, FUNCTIONS[name].timeoutSeconds * 1000).warm());
    }
    await Promise.all(warming);
  }

  /** Ends the worker threads after their in-flight invocations; in-process handlers need nothing. */
  async stop(): Promise<void> {
    await Promise.all([...this.threads.values()].map((thread) => thread.stop()));
  }

  private async runner(name: FunctionName, event: unknown, timeoutMs: number): Promise<() => Promise<unknown>> {
    if (this.threaded(name)) {
      if (!this.threads.has(name) && !this.handlerExists(name)) throw new FunctionMissingError(name);
      const thread = this.thread(name, timeoutMs);
      return () => thread.invoke(event, timeoutMs);
    }
    const handler = await this.load(name);
    if (handler === undefined) throw new FunctionMissingError(name);
    const context = makeLambdaContext(FUNCTIONS[name], this.options.region, timeoutMs);
    // The invocation's AWS calls are checked against this function's grants (lib/local/iam.ts).
    return () => runAs(name, () => runInvocation(context, () => handler(event, context)));
  }

  private thread(name: FunctionName, timeoutMs: number): FunctionThread {
    let thread = this.threads.get(name);
    if (thread === undefined) {
      const metrics = this.options.metrics;
      if (metrics === undefined)
        throw new Error(`Function ${name} runs in a thread but the runtime was given no metrics to forward to`);
      thread = new FunctionThread({
        name,
        projectRoot: this.options.projectRoot,
        handlerPath: this.handlerPath(name),
        region: this.options.region,
        timeoutMs,
        metrics,
        logger: this.options.logger,
        iam: this.options.iam,
      });
      this.threads.set(name, thread);
    }
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

  private load(name: FunctionName): Promise<LambdaHandler | undefined> {
    let pending = this.loaded.get(name);
    if (pending === undefined) {
      pending = this.importHandler(name);
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
