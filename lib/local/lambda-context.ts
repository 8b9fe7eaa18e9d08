import { randomUUID } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';
import type { FunctionDefinition } from '../runtime/resources';

export const LOCAL_ACCOUNT_ID = '000000000000';

/** The deployed name of a function on the local stack, mirroring `tmc-<stage>-<name>` in the cloud. */
export function localFunctionName(name: string): string {
  return `tmc-local-${name}`;
}

/** A Lambda context as the Node.js runtime builds it; the deadline follows the function's configured timeout. */
export function makeLambdaContext(
  fn: FunctionDefinition,
  region: string,
  timeoutMs: number = fn.timeoutSeconds * 1000,
): Context {
  const functionName = localFunctionName(fn.name);
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: (): number => Math.max(0, deadline - Date.now()),
    done: (): void => undefined,
    fail: (): void => undefined,
    succeed: (): void => undefined,
  };
}

/**
 * Variables Lambda sets that Powertools reads, set in the local functions' environment. The local stack runs each
 * invocation in a container of its own, but a function's containers share one isolate and so its module-level state
 * (Powertools' logger): AWS_LAMBDA_MAX_CONCURRENCY makes Powertools keep what is per invocation in the runtime's
 * per-invocation store, as on Lambda Managed Instances; the container starts on demand, which makes the first
 * invocation a cold start.
 */
export const LOCAL_LAMBDA_ENV = { AWS_LAMBDA_MAX_CONCURRENCY: '64', AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' };

type InvocationContext = Record<string | symbol, unknown>;

/** The runtime's per-invocation store when invocations share an isolate (the RIC's InvokeStoreMulti, re-stated). */
class LocalInvokeStore extends InvokeStoreBase {
  private readonly als = new AsyncLocalStorage<InvocationContext>();

  getContext(): InvocationContext | undefined {
    return this.als.getStore();
  }

  hasContext(): boolean {
    return this.als.getStore() !== undefined;
  }

  get<T = unknown>(key: string | symbol): T | undefined {
    // The store holds what Powertools put under `key`; the type is the caller's, as in the runtime's own store.
    return this.als.getStore()?.[key] as T | undefined;
  }

  set<T = unknown>(key: string | symbol, value: T): void {
    if (this.isProtectedKey(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    const store = this.als.getStore();
    if (store === undefined) throw new Error('No invocation context');
    store[key] = value;
  }

  run<T>(context: InvocationContext, fn: () => T): T {
    return this.als.run(context, fn);
  }
}

/** Where the runtime publishes its store, and where Powertools looks for it. */
const lambdaGlobal = globalThis as { awslambda?: { InvokeStore?: InvokeStoreBase } };

/**
 * Runs one invocation as Lambda's Node.js runtime does when invocations share an isolate: inside its InvokeStore
 * (an AsyncLocalStorage), so what Powertools keeps per invocation (the logger's Lambda context: request id, cold
 * start) stays apart between invocations running at once.
 */
export function runInvocation<T>(context: Context, run: () => Promise<T>): Promise<T> {
  lambdaGlobal.awslambda ??= {};
  const store = (lambdaGlobal.awslambda.InvokeStore ??= new LocalInvokeStore());
  // The function's name beside the request id, and whether the invocation has ended (a timer or listener set up in it
  // keeps its context after): the benchmark prices each invocation's requests by function
  // (bench/support/invocation-io-preload.cjs).
  const invocation: InvocationContext = {
    [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId,
    'tmc-local:function': context.functionName.replace(/^tmc-local-/, ''),
  };
  return store.run(invocation, run).finally(() => {
    invocation['tmc-local:ended'] = true;
  });
}
