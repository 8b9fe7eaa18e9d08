import { z } from 'zod';

/**
 * Each function's invocations' outgoing requests in rounds, counted in every thread of a benchmark size's process by
 * bench/support/invocation-io-preload.cjs (loaded with `--require` by bench/e2e/run-in-child.ts). Absent when the
 * preload is not loaded (a size run in a test's own process): the cost model then has no rounds to price.
 */

export const FunctionIoSchema = z.object({
  /** Invocations that made at least one request. */
  invocations: z.number(),
  /** Requests by service and operation (`dynamodb PutItem`, `sqs SendMessageBatch`, `kubernetes`). */
  requests: z.record(z.string(), z.number()),
  /** Rounds summed over the invocations, by the services a round's requests went to (`dynamodb+kubernetes`). */
  rounds: z.record(z.string(), z.number()),
  /** The most rounds one invocation made. */
  maxRounds: z.number(),
});
export type FunctionIo = z.infer<typeof FunctionIoSchema>;

export interface InvocationIo {
  byFunction: Record<string, FunctionIo>;
  /** Threads that answered (this one included). */
  threads: number;
  /** Threads known to have loaded the preload that did not answer in time: their invocations are missing. */
  missingThreads: number;
}

const Reply = z.object({
  summaries: z.array(z.record(z.string(), FunctionIoSchema)),
  threads: z.number(),
  missingThreads: z.number(),
});
const Ask = z.custom<(timeoutMs: number) => Promise<unknown>>((v) => typeof v === 'function');
const Api = z.object({ reset: Ask, collect: Ask });

/** Long enough for a thread busy with a GC pause or a burst to answer; a thread that has exited never does. */
const ANSWER_TIMEOUT_MS = 10_000;

function mergeInto(into: Record<string, FunctionIo>, from: Record<string, FunctionIo>): void {
  for (const [fn, io] of Object.entries(from)) {
    const f = (into[fn] ??= { invocations: 0, requests: {}, rounds: {}, maxRounds: 0 });
    f.invocations += io.invocations;
    f.maxRounds = Math.max(f.maxRounds, io.maxRounds);
    for (const [k, n] of Object.entries(io.requests)) f.requests[k] = (f.requests[k] ?? 0) + n;
    for (const [k, n] of Object.entries(io.rounds)) f.rounds[k] = (f.rounds[k] ?? 0) + n;
  }
}

export interface InvocationIoTracker {
  /** Forgets what every thread counted so far; resolves once each has. */
  reset(): Promise<void>;
  /** What every thread counted since the last reset, summed per function. */
  collect(): Promise<InvocationIo>;
}

/** Undefined when this process was not started with the preload. */
export function invocationIoTracker(): InvocationIoTracker | undefined {
  const parsed = Api.safeParse((globalThis as Record<symbol, unknown>)[Symbol.for('tmc-bench.invocation-io')]);
  if (!parsed.success) return undefined;
  const api = parsed.data;
  const ask = async (op: 'reset' | 'collect'): Promise<z.infer<typeof Reply>> =>
    Reply.parse(await (op === 'reset' ? api.reset : api.collect)(ANSWER_TIMEOUT_MS));
  return {
    reset: async () => {
      await ask('reset');
    },
    collect: async () => {
      const reply = await ask('collect');
      const byFunction: Record<string, FunctionIo> = {};
      for (const summary of reply.summaries) mergeInto(byFunction, summary);
      return { byFunction, threads: reply.threads, missingThreads: reply.missingThreads };
    },
  };
}
