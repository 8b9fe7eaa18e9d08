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

/**
 * The one shape of every `functions/<name>/handler.ts`: middy with Powertools' middlewares (each log line carries the
 * Lambda request id, function name and cold-start flag; the invocation is an X-Ray segment when tracing is on), the
 * app built on the first invocation, not at import, so a bad environment fails the call with its variable's name,
 * the invocation deadline, and the function's metrics flushed after every call, failed or not.
 */
export function wrapHandler<E, R>(
  name: FunctionName,
  build: () => FunctionApp<E, R>,
  options: WrapOptions = {},
): MiddyfiedHandler<E, R, Error, Context> {
  let app: FunctionApp<E, R> | undefined;
  const invoke = async (event: E): Promise<R> => {
    try {
      app ??= build();
      return await app.handle(event);
    } finally {
      app?.metrics?.flush();
    }
  };
  return middy<E, R, Error, Context>()
    .use(injectLambdaContext(functionLogger(name)))
    .use(captureLambdaHandlerWhenTracing(name))
    .handler((event, context) =>
      options.deadline === false ? invoke(event) : withInvocationDeadline(context, () => invoke(event)),
    );
}
