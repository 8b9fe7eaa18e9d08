import type * as PowertoolsTracer from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import { z } from 'zod';

/**
 * X-Ray in the cloud, through Powertools tracer. An instrumented SQS client sends the invocation's trace header with
 * every SendMessage, SQS hands it to the consumer as the `AWSTraceHeader` system attribute, and Lambda links the
 * consumer's trace to it: one kcp change is one linked trace from ingress through placement and sync-apply (with
 * active tracing on the functions). tmc's own `traceId` travels beside it as a message attribute and in every log line
 * (docs/observability.md). Outside Lambda (the local stack, tests, the CLI) Powertools disables itself
 * (no `AWS_EXECUTION_ENV`), and the clients are returned unchanged.
 *
 * The tracer is loaded only when tracing can be on. Loading it loads aws-xray-sdk-core, whose cls-hooked namespace
 * turns on async_hooks promise tracking (a destroy hook per promise) for the whole process at module load, enabled or
 * not, which costs every promise the process makes. So the module is imported lazily, and only after
 * `tracingMayBeOn` says Powertools could enable it.
 */

/** The variables Powertools' Tracer reads to decide whether it is enabled (Tracer.setTracingEnabled). */
const TracingEnvSchema = z.object({
  AWS_EXECUTION_ENV: z.string().trim().optional(),
  AWS_SAM_LOCAL: z.string().trim().optional(),
  POWERTOOLS_TRACE_ENABLED: z.string().trim().optional(),
  POWERTOOLS_SERVICE_NAME: z.string().optional(),
});
type TracingEnv = z.infer<typeof TracingEnvSchema>;

/**
 * False wherever Powertools would disable tracing: outside Lambda (no AWS_EXECUTION_ENV), under SAM local or the
 * Amplify mock, or with POWERTOOLS_TRACE_ENABLED=false. Written out instead of asking a Tracer because constructing
 * one is what loads the X-Ray SDK; it only ever answers false where Powertools does, and when it answers true the
 * Tracer built afterwards still has the last word (isTracingEnabled).
 */
export function tracingMayBeOn(env: TracingEnv): boolean {
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  if ((env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() === 'false') return false;
  return executionEnv !== '' && executionEnv !== 'AWS_Lambda_amplify-mock' && (env.AWS_SAM_LOCAL ?? '') === '';
}

type TracerModule = typeof PowertoolsTracer;
let tracerModule: Promise<TracerModule> | undefined;

/** One import per process; in the CommonJS Lambda bundle esbuild turns it into a require a microtask later. */
function loadTracer(): Promise<TracerModule> {
  tracerModule ??= import('@aws-lambda-powertools/tracer');
  return tracerModule;
}

/** Anything with an AWS SDK v3 `send` (a client, or a DynamoDBDocumentClient over one). */
interface Sender {
  send: (...args: never[]) => unknown;
}

/**
 * Until `ready` settles, `sender.send` waits for it and then calls the real send, so the request's middleware stack
 * is resolved (Command.resolveMiddleware, per send) after the X-Ray middleware was added: every request is traced as
 * if the tracer had been loaded eagerly. Afterwards the instance's own `send` is removed and the prototype's is used
 * directly again.
 */
function holdSendsUntil(sender: Sender, ready: Promise<void>): void {
  const send = sender.send;
  const held = (...args: never[]): Promise<unknown> => ready.then(() => Reflect.apply(send, sender, args));
  Object.defineProperty(sender, 'send', { value: held, configurable: true, writable: true });
  const release = (): void => {
    if (sender.send === held) Reflect.deleteProperty(sender, 'send');
  };
  ready.then(release, release);
}

/**
 * The client, instrumented so its calls are X-Ray subsegments and carry the trace header (SQS, DynamoDB). `sharing`:
 * clients built over the same middleware stack (DynamoDBDocumentClient.from) whose sends must wait for the
 * instrumentation too.
 */
export function traceAwsClient<T extends Sender>(client: T, ...sharing: Sender[]): T {
  const env = TracingEnvSchema.parse(process.env);
  if (!tracingMayBeOn(env)) return client;
  const ready = loadTracer().then(({ Tracer }) => {
    // A Tracer per client is cheap (the X-Ray SDK keeps its context globally) and reads the environment when built.
    const tracer = new Tracer({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'tmc' });
    if (tracer.isTracingEnabled()) tracer.captureAWSv3Client(client);
  });
  for (const sender of [client, ...sharing]) holdSendsUntil(sender, ready);
  return client;
}

type Middleware = MiddlewareObj<unknown, unknown, Error>;

/**
 * Powertools' `captureLambdaHandler` middleware (the invocation as an X-Ray segment, its result or error recorded),
 * loaded on the first invocation and only where tracing may be on: elsewhere there is no middleware at all (an empty
 * list, for middy's `use`), so the X-Ray SDK stays unloaded (see above).
 */
export function captureLambdaHandlerWhenTracing(serviceName: string): Middleware[] {
  const env = TracingEnvSchema.parse(process.env);
  if (!tracingMayBeOn(env)) return [];
  let capture: Promise<Middleware> | undefined;
  const load = (): Promise<Middleware> => {
    capture ??= Promise.all([loadTracer(), import('@aws-lambda-powertools/tracer/middleware')]).then(
      ([{ Tracer }, { captureLambdaHandler }]) =>
        captureLambdaHandler(new Tracer({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? serviceName })) as Middleware,
    );
    return capture;
  };
  return [
    {
      before: async (request) => (await load()).before?.(request),
      after: async (request) => (await load()).after?.(request),
      onError: async (request) => (await load()).onError?.(request),
    },
  ];
}
