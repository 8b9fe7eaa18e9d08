import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import type { Handler, MetadataBearer } from '@smithy/types';

/**
 * A lib-dynamodb command as it is at run time: the DynamoDB command it wraps is a protected member in the types. The
 * wrapped command's `input` is the document command's own (marshalled by the wrapper's middleware).
 */
interface WrappingCommand {
  clientCommand: {
    input: object;
    resolveMiddleware(stack: unknown, configuration: unknown, options: unknown): Handler<object, MetadataBearer>;
  };
  resolveMiddleware(stack: unknown, configuration: unknown, options: unknown): unknown;
}

function isWrappingCommand(command: object): command is WrappingCommand {
  const inner: unknown = Reflect.get(command, 'clientCommand');
  return (
    typeof Reflect.get(command, 'resolveMiddleware') === 'function' &&
    typeof inner === 'object' &&
    inner !== null &&
    typeof Reflect.get(inner, 'input') === 'object' &&
    typeof Reflect.get(inner, 'resolveMiddleware') === 'function'
  );
}

type ResolvedHandler = Handler<object, MetadataBearer>;

/** Per client, per document command class: the resolved handler of the DynamoDB command it wraps. */
const resolvedHandlers = new WeakMap<object, WeakMap<object, ResolvedHandler>>();

function handlerOf(client: DynamoDBDocumentClient, command: WrappingCommand): ResolvedHandler {
  let handlers = resolvedHandlers.get(client);
  if (!handlers) resolvedHandlers.set(client, (handlers = new WeakMap()));
  const known = handlers.get(command.constructor);
  if (known) return known;
  // The document command resolves its wrapped command's stack and returns a closure over this one instance: the
  // handler that closure would call is taken as it is built.
  const inner = command.clientCommand;
  const resolve = inner.resolveMiddleware.bind(inner);
  let handler: ResolvedHandler | undefined;
  inner.resolveMiddleware = (stack, configuration, options) => (handler = resolve(stack, configuration, options));
  try {
    command.resolveMiddleware(client.middlewareStack, client.config, undefined);
  } finally {
    Reflect.deleteProperty(inner, 'resolveMiddleware');
  }
  if (!handler) throw new Error('lib-dynamodb resolved a command without resolving the DynamoDB command it wraps');
  handlers.set(command.constructor, handler);
  return handler;
}

/**
 * DynamoDBDocumentClient resolving each command class's middleware stack once, as `cacheMiddleware` does for the
 * other clients (lib-dynamodb refuses that option: a document command's resolved handler is bound to the command
 * instance it was resolved for). Resolving builds a middleware stack per command, copies the client's twice, sorts it
 * and chains a closure per middleware, on every send. Here the handler of the DynamoDB command inside is kept per
 * document command class and called with each new wrapped command, whose `input` is all the chain reads; the
 * marshalling middleware in it reads only its class's key paths and the client's translate options, the same for
 * every command of the class. As with `cacheMiddleware`, nothing may change the client's middleware stack after its
 * first send (the X-Ray middleware is added before: lib/observability/tracing.ts), and a send with options (an abort
 * signal) or a callback resolves its own stack.
 */
export class HandlerCachingDocumentClient extends DynamoDBDocumentClient {
  constructor(client: DynamoDBClient, translateConfig?: TranslateConfig) {
    super(client, translateConfig);
  }
}

// On the prototype, not the instance: the tracer's hold on sends (lib/observability/tracing.ts) sets and later deletes
// an own `send`, which must fall back to this one. Typed as the SDK's overloads are, through defineProperty.
Object.defineProperty(HandlerCachingDocumentClient.prototype, 'send', {
  configurable: true,
  writable: true,
  value: function send(this: DynamoDBDocumentClient, command: object, ...rest: unknown[]): unknown {
    if (rest.length > 0 || !isWrappingCommand(command))
      return Reflect.apply(DynamoDBDocumentClient.prototype.send, this, [command, ...rest]);
    return handlerOf(this, command)(command.clientCommand).then((result) => result.output);
  },
});
