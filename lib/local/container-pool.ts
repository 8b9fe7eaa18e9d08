import type { Context } from 'aws-lambda';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** The invocation outlived the function's timeout, as Lambda would report it. */
export class FunctionTimeoutError extends Error {
  constructor(
    readonly functionName: string,
    readonly timeoutMs: number,
  ) {
    super(`Function ${functionName} timed out after ${timeoutMs} ms`);
    this.name = 'FunctionTimeoutError';
  }
}

/** Whether `err` is a {@link FunctionTimeoutError}, also as rebuilt after crossing from a functions' thread. */
export function isFunctionTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === 'FunctionTimeoutError';
}

/** An invocation's time limit: the function's timeout, counted from when it has a container. */
export interface InvocationLimit {
  functionName: string;
  timeoutMs: number;
}

/**
 * One function's warm "containers" in this isolate, each running one invocation at a time as a Lambda container
 * does: an invocation takes an idle container (the most recently used, the warmest), starts a new one while fewer
 * than `maxContainers` exist, or else waits for one to be free (as Lambda throttles at a function's reserved
 * concurrency). Invocations that overlap never share a container's state (its deps, caches and locks). The containers
 * share the isolate's loaded code, which is what makes them cheap.
 *
 * With a limit, an invocation's clock starts when it has its container (a throttled invocation has not started), and
 * one that outlives it fails with a {@link FunctionTimeoutError}. Lambda then kills the container and the next
 * invocation gets a new one; here the late work cannot be stopped, so its container is retired instead: it no longer
 * counts against `maxContainers` and is never used again, whatever it does after. Without that, the next invocation
 * would wait for the late one and spend its own timeout waiting.
 */
export class ContainerPool {
  private readonly idle: LambdaHandler[] = [];
  private readonly waiting: Array<(handler: LambdaHandler) => void> = [];
  private started = 0;
  /** Containers that may run an invocation: started and not retired. */
  private live = 0;

  /** `start`: a new container's handler (its state built on its first invocation). */
  constructor(
    private readonly start: () => LambdaHandler,
    private readonly maxContainers = Number.POSITIVE_INFINITY,
  ) {}

  /** Containers started so far (the most that ran at once, plus those retired after a timeout). */
  get size(): number {
    return this.started;
  }

  /** Runs `use` in a container of its own; the container is free again once the handler has settled. */
  async run<T>(use: (handler: LambdaHandler) => Promise<T>, limit?: InvocationLimit): Promise<T> {
    const handler = await this.acquire();
    const work = Promise.resolve().then(() => use(handler));
    if (limit === undefined) {
      try {
        return await work;
      } finally {
        this.release(handler);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        this.retire();
        reject(new FunctionTimeoutError(limit.functionName, limit.timeoutMs));
      }, limit.timeoutMs);
    });
    // The late work's outcome is nobody's: its caller already has the timeout.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, expiry]);
    } finally {
      clearTimeout(timer);
      if (!timedOut) this.release(handler);
    }
  }

  private release(handler: LambdaHandler): void {
    const next = this.waiting.shift();
    if (next) next(handler);
    else this.idle.push(handler);
  }

  /** A container given up at its timeout: a waiting invocation gets a new one in its place. */
  private retire(): void {
    this.live -= 1;
    const next = this.waiting.shift();
    if (next) next(this.startContainer());
  }

  private startContainer(): LambdaHandler {
    this.started += 1;
    this.live += 1;
    return this.start();
  }

  private acquire(): Promise<LambdaHandler> {
    const idle = this.idle.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    if (this.live < this.maxContainers) return Promise.resolve(this.startContainer());
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

/**
 * How a handler module's `handler` starts another container: lib/runtime/wrap-handler.ts gives each handler a
 * `newContainer` (its module evaluated again, as a new Lambda container would); a plain function (a test's) is its
 * only container.
 */
export function containerStarter(handler: LambdaHandler): () => LambdaHandler {
  const newContainer: unknown = (handler as { newContainer?: unknown }).newContainer;
  if (typeof newContainer !== 'function') return () => handler;
  let first = true;
  return () => {
    if (first) {
      first = false;
      return handler;
    }
    // The module's own factory: it returns the same kind of handler.
    return (newContainer as () => LambdaHandler)();
  };
}
