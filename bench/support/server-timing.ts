import { channel } from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import { z } from 'zod';

/**
 * Time the simulator's servers spend per request, from Node's `http.server.request.start` and
 * `http.server.response.finish` diagnostics channels, so the benchmark can report the simulator's own overhead apart
 * from the latency it injects. kcp's writes include the admission webhook call to ingress (kube-apiserver waits for
 * it too), so kcp's figure is not all simulator.
 */

export interface ServerTiming {
  requests: number;
  /** Mean time from request start to response finish. */
  meanMs: number;
  /** Mean minus the injected per-request latency: the simulator's own work (plus any webhook it waited for). */
  overheadMeanMs: number;
  totalSeconds: number;
}

export interface ServerTimer {
  snapshot(latencyMs: number): Record<string, ServerTiming>;
  reset(): void;
  close(): void;
}

const Message = z.object({ request: z.custom<IncomingMessage>(), server: z.custom<Server>() });

/** `servers`: name → port. */
export function timeServers(servers: Record<string, number>): ServerTimer {
  const byPort = new Map(Object.entries(servers).map(([name, port]) => [port, name]));
  const started = new WeakMap<IncomingMessage, number>();
  let totals = new Map<string, { n: number; ms: number }>();
  const portOf = (server: Server): number | undefined => {
    const a = server.address();
    return typeof a === 'object' && a !== null ? a.port : undefined;
  };
  const onStart = (m: unknown): void => {
    const p = Message.safeParse(m);
    // Watches stay open for minutes: they are not request/response round trips.
    if (p.success && byPort.has(portOf(p.data.server) ?? -1) && !(p.data.request.url ?? '').includes('watch=')) started.set(p.data.request, performance.now());
  };
  const onFinish = (m: unknown): void => {
    const p = Message.safeParse(m);
    if (!p.success) return;
    const at = started.get(p.data.request);
    const name = byPort.get(portOf(p.data.server) ?? -1);
    if (at === undefined || name === undefined) return;
    const t = totals.get(name) ?? { n: 0, ms: 0 };
    t.n += 1;
    t.ms += performance.now() - at;
    totals.set(name, t);
  };
  const start = channel('http.server.request.start');
  const finish = channel('http.server.response.finish');
  start.subscribe(onStart);
  finish.subscribe(onFinish);
  return {
    snapshot: (latencyMs) =>
      Object.fromEntries(
        [...totals].map(([name, t]) => {
          const mean = t.n ? t.ms / t.n : 0;
          return [name, { requests: t.n, meanMs: round(mean), overheadMeanMs: round(Math.max(0, mean - latencyMs)), totalSeconds: round(t.ms / 1000) }];
        }),
      ),
    reset: () => {
      totals = new Map();
    },
    close: () => {
      start.unsubscribe(onStart);
      finish.unsubscribe(onFinish);
    },
  };
}

const round = (n: number): number => Math.round(n * 1000) / 1000;
