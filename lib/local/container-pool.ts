import type { Context } from 'aws-lambda';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * One function's warm "containers" in this isolate, each running one invocation at a time as a Lambda container
 * does: an invocation takes an idle container (the most recently used, the warmest), starts a new one while fewer
 * than `maxContainers` exist, or else waits for one to be free (as Lambda throttles at a function's reserved
 * concurrency). Invocations that overlap never share a container's state (its deps, caches and locks). The containers
 * share the isolate's loaded code, which is what makes them cheap.
 */
export class ContainerPool {
  private readonly idle: LambdaHandler[] = [];
  private readonly waiting: Array<(handler: LambdaHandler) => void> = [];
  private started = 0;

  /** `start`: a new container's handler (its state built on its first invocation). */
  constructor(
    private readonly start: () => LambdaHandler,
    private readonly maxContainers = Number.POSITIVE_INFINITY,
  ) {}

  /** Containers started so far (the most that ran at once). */
  get size(): number {
    return this.started;
  }

  /** Runs `use` in a container of its own; the container is free again once the handler has settled. */
  async run<T>(use: (handler: LambdaHandler) => Promise<T>): Promise<T> {
    const handler = await this.acquire();
    try {
      return await use(handler);
    } finally {
      const next = this.waiting.shift();
      if (next) next(handler);
      else this.idle.push(handler);
    }
  }

  private acquire(): Promise<LambdaHandler> {
    const idle = this.idle.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    if (this.started < this.maxContainers) {
      this.started += 1;
      return Promise.resolve(this.start());
    }
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
