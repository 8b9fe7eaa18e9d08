import middy, { type MiddyfiedHandler } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { withInvocationDeadline } from '../errors/deadline';
import { captureLambdaHandlerWhenTracing } from '../observability/tracing';
import { functionLogger } from './logger';
import type { FunctionName } from './resources';

/** What a function's composition root hands its handler: the use case, and the metrics to flush after each call. */
export interface FunctionApp<E, R> {
  handle(event: E): Promise<R>;
  metrics?: { flush(): void };
}

export interface WrapOptions {
  /** Cut outbound calls off before the function's timeout (lib/errors/deadline.ts); on unless false. */
  deadline?: boolean;
}

/** A function's handler, and how another container of it starts (see {@link wrapHandler}). */
type WrappedHandler<E, R> = MiddyfiedHandler<E, R, Error, Context> & {
  newContainer(): WrappedHandler<E, R>;
};

/**
 * The one shape of every `functions/<name>/handler.ts`: middy with Powertools' middlewares (each log line carries the
 * Lambda request id, function name and cold-start flag; the invocation is an X-Ray segment when tracing is on), the
 * app built on the first invocation, not at import, so a bad environment fails the call with its variable's name,
 * the invocation deadline, and the function's metrics flushed after every call, failed or not. `newContainer` is the
 * same handler with an app of its own, as a new Lambda container would have: the local stack runs one invocation per
 * container at a time, as Lambda does, and starts another for an invocation that overlaps (lib/local/container-pool.ts).
 */
export function wrapHandler<E, R>(
  name: FunctionName,
  build: () => FunctionApp<E, R>,
  options: WrapOptions = {},
): WrappedHandler<E, R> {
  let app: FunctionApp<E, R> | undefined;
  const invoke = async (event: E): Promise<R> => {
    try {
      app ??= build();
      return await app.handle(event);
    } finally {
      app?.metrics?.flush();
    }
  };
  const handler = middy<E, R, Error, Context>()
    .use(injectLambdaContext(functionLogger(name)))
    .use(captureLambdaHandlerWhenTracing(name))
    .handler((event, context) =>
      options.deadline === false ? invoke(event) : withInvocationDeadline(context, () => invoke(event)),
    );
  return Object.assign(handler, { newContainer: () => wrapHandler(name, build, options) });
}
