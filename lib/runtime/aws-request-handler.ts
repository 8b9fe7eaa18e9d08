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
 *
 * `requestTimeout` bounds a request from its start (waiting for a socket included) until the response's headers. In
 * @smithy/node-http-handler 4.x it only logs "a request has exceeded the configured … ms requestTimeout" and lets the
 * request go on unless `throwOnRequestTimeout` is set; with it the request is destroyed and fails with a TimeoutError
 * of code ETIMEDOUT, which the SDK retries as a transient error (up to the client's maxAttempts) and asTmcError then
 * reads as a retryable NetworkError (lib/errors/tmc-error.ts). The invocation's deadline (below) stays the outer bound:
 * it cuts off whatever the request timeout and the SDK's retries leave running. `connectionTimeout` bounds the TCP
 * connect. A response that stalls after its headers is bounded by the deadline only (no `socketTimeout`: the SDK reads
 * the small bodies of DynamoDB, SQS and Secrets Manager at once).
 */
export function requestHandlerOptions(
  requestTimeoutMs: number,
  connectionTimeoutMs = 3_000,
): {
  httpAgent: HttpAgent;
  httpsAgent: HttpsAgent;
  requestTimeout: number;
  throwOnRequestTimeout: true;
  connectionTimeout: number;
} {
  return {
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
    requestTimeout: requestTimeoutMs,
    throwOnRequestTimeout: true,
    connectionTimeout: connectionTimeoutMs,
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
