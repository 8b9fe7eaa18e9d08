import { channel } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { portOf, ServerRequestMessage } from './server-request';

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

/** `servers`: name → port. */
export function timeServers(servers: Record<string, number>): ServerTimer {
  const byPort = new Map(Object.entries(servers).map(([name, port]) => [port, name]));
  // The server's name is taken at the start, so a response's finish costs one lookup.
  const started = new WeakMap<IncomingMessage, { name: string; at: number }>();
  let totals = new Map<string, { n: number; ms: number }>();
  const onStart = (m: unknown): void => {
    const p = ServerRequestMessage.safeParse(m);
    if (!p.success) return;
    const { request } = p.data;
    const name = byPort.get(portOf(request) ?? -1);
    // Watches stay open for minutes: they are not request/response round trips.
    if (name !== undefined && !(request.url ?? '').includes('watch='))
      started.set(request, { name, at: performance.now() });
  };
  const onFinish = (m: unknown): void => {
    const p = ServerRequestMessage.safeParse(m);
    if (!p.success) return;
    const began = started.get(p.data.request);
    if (began === undefined) return;
    const t = totals.get(began.name) ?? { n: 0, ms: 0 };
    t.n += 1;
    t.ms += performance.now() - began.at;
    totals.set(began.name, t);
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
          return [
            name,
            {
              requests: t.n,
              meanMs: round(mean),
              overheadMeanMs: round(Math.max(0, mean - latencyMs)),
              totalSeconds: round(t.ms / 1000),
            },
          ];
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
