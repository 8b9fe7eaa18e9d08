import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionName } from '../runtime/resources';
import { makeLambdaContext } from './lambda-context';
import type { StackLogger } from './log';

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
  constructor(readonly functionName: FunctionName, readonly timeoutMs: number) {
    super(`Function ${functionName} timed out after ${timeoutMs} ms`);
    this.name = 'FunctionTimeoutError';
  }
}

export interface FunctionRuntimeOptions {
  projectRoot: string;
  region: string;
  logger: StackLogger;
  /** Handlers by name, used instead of functions/<name>/handler.ts (tests of the stack's plumbing). */
  handlers?: Partial<Record<FunctionName, LambdaHandler>>;
  /** Called around every invocation, so the stack can tell when it is idle. */
  onStart?: () => void;
  onEnd?: () => void;
}

/**
 * Runs the functions in this process the way Lambda runs them: the handler module imported once (a warm container),
 * the same event shapes, a context whose deadline is the function's timeout. Lambda would kill a timed-out
 * invocation; in one process it cannot be killed, so the caller gets a timeout error and the late result is dropped.
 */
export class FunctionRuntime {
  private readonly loaded = new Map<FunctionName, Promise<LambdaHandler | undefined>>();
  private readonly reportedMissing = new Set<FunctionName>();
  private active = 0;

  constructor(private readonly options: FunctionRuntimeOptions) {}

  /** Invocations running now. */
  get running(): number {
    return this.active;
  }

  handlerPath(name: FunctionName): string {
    return join(this.options.projectRoot, 'functions', name, 'handler.ts');
  }

  async available(name: FunctionName): Promise<boolean> {
    return (await this.load(name)) !== undefined;
  }

  async invoke(name: FunctionName, event: unknown): Promise<unknown> {
    const handler = await this.load(name);
    if (handler === undefined) throw new FunctionMissingError(name);
    const fn = FUNCTIONS[name];
    const timeoutMs = fn.timeoutSeconds * 1000;
    const context = makeLambdaContext(fn, this.options.region, timeoutMs);
    this.active += 1;
    this.options.onStart?.();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new FunctionTimeoutError(name, timeoutMs)), timeoutMs);
        timer.unref();
      });
      return await Promise.race([Promise.resolve().then(() => handler(event, context)), timeout]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      this.active -= 1;
      this.options.onEnd?.();
    }
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
      if (!this.reportedMissing.has(name)) {
        this.reportedMissing.add(name);
        this.options.logger.warn(`Function ${name} is not built yet; its routes answer 503 and its queue is not consumed`, { path });
      }
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
