import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { HttpHandlerOptions } from '@smithy/types';
import { callUnderDeadline, currentDeadline } from '../errors/deadline';

/**
 * The request handler settings and the invocation deadline every AWS client of the functions shares. A module with no
 * client in it, so the authorizer (Secrets Manager only) bundles no DynamoDB or SQS client.
 */

/**
 * Keep-alive saves a TLS handshake per call on warm containers; maxSockets bounds bursts from one container.
 * `requestTimeout` only warns in @smithy/node-http-handler 4.x unless `throwOnRequestTimeout` is set; it is left as a
 * warning because the deadline that matters is the invocation's (below), which aborts the request for real.
 */
export function requestHandlerOptions(requestTimeoutMs: number): {
  httpAgent: HttpAgent;
  httpsAgent: HttpsAgent;
  requestTimeout: number;
  connectionTimeout: number;
} {
  return {
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
    requestTimeout: requestTimeoutMs,
    connectionTimeout: 3_000,
  };
}

/** The part of an SDK client's resolved request handler this module wraps. */
interface RequestHandling<Request, Response> {
  handle(request: Request, options?: HttpHandlerOptions): Promise<Response>;
}

/**
 * Makes every request of `client` carry the running invocation's deadline (lib/errors/deadline.ts) as its abort
 * signal, combined with any signal the caller passed. A request cut off by the deadline fails with a
 * DeadlineExceededError, which the SDK does not retry (its retry rules know only throttling, transient and network
 * errors by name and code), so no retry starts once the time is up. Called right after building a client, before its
 * first send.
 */
export function carryInvocationDeadline<Request, Response>(
  client: { config: { requestHandler: RequestHandling<Request, Response> } },
  service: string,
): void {
  const inner = client.config.requestHandler;
  const handle = inner.handle.bind(inner);
  // The resolved handler is a NodeHttpHandler instance; only its `handle` changes, its other methods stay its own.
  inner.handle = (request, options = {}) => {
    // A caller's signal of the SDK's legacy shape cannot be combined with another; none of tmc's calls passes one.
    if (options.abortSignal !== undefined && !(options.abortSignal instanceof AbortSignal))
      return handle(request, options);
    const own = options.abortSignal;
    return callUnderDeadline(
      currentDeadline(),
      `A ${service} request`,
      (abortSignal) => handle(request, { ...options, abortSignal }),
      own,
    );
  };
}
