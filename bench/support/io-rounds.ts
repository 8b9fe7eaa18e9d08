import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { serviceOf, type IoService } from './io-service.cjs';

export type { IoService } from './io-service.cjs';

/**
 * The outgoing HTTP requests of one piece of work in rounds: a request that starts before any request issued after it
 * has finished is in the same round, one that starts after a round-n request finished is in round n + 1 at least. The
 * number of rounds is the length of the work's critical path in requests, whatever the latencies, so it can be
 * measured on a loaded machine and priced at another's latencies. Each round lists the services its requests went to.
 */
export interface IoRounds {
  rounds: IoService[][];
  requests: number;
}

export interface IoRoundTracker {
  /** Stops tracking and returns the rounds of what was tracked. */
  stop(): IoRounds;
}

/**
 * Tracks this thread's outgoing HTTP requests (Node's `http.client.*` diagnostics channels: every AWS SDK client and
 * client-node request passes there) until `stop`. `ignore` leaves out requests that are not the work's (a local
 * poller's long-poll receive in the same thread).
 */
export function trackIoRounds(ignore: (request: ClientRequest) => boolean = () => false): IoRoundTracker {
  const depth = new Map<ClientRequest, number>();
  const rounds: IoService[][] = [];
  let finishedDepth = 0;
  let requests = 0;
  const onStart = (message: unknown): void => {
    const { request } = message as { request: ClientRequest };
    if (ignore(request)) return;
    const d = finishedDepth + 1;
    depth.set(request, d);
    requests++;
    while (rounds.length < d) rounds.push([]);
    rounds[d - 1].push(serviceOf(request));
  };
  const onFinish = (message: unknown): void => {
    const { request } = message as { request: ClientRequest };
    const d = depth.get(request);
    if (d !== undefined) finishedDepth = Math.max(finishedDepth, d);
  };
  subscribe('http.client.request.start', onStart);
  subscribe('http.client.response.finish', onFinish);
  return {
    stop: () => {
      unsubscribe('http.client.request.start', onStart);
      unsubscribe('http.client.response.finish', onFinish);
      return { rounds: rounds.map((r) => [...new Set(r)].sort()), requests };
    },
  };
}

/** A local SQS poller's receive: the stack's Lambda event source stand-in, not a function's own request. */
export const isPollerReceive = (request: ClientRequest): boolean =>
  request.getHeader('x-amz-target') === 'AmazonSQS.ReceiveMessage';
