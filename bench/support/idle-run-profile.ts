import { isPollerReceive, trackIoRounds, type IoService } from './io-rounds';
import { componentOfThread, threadCpuAvailable, threadCpuSnapshot, type ThreadCpuSnapshot } from './thread-cpu';

/**
 * What one settled run of a schedule costs Lambda, measured so that it can be priced away from this machine's load:
 * the CPU of the thread the target runs in, its requests as rounds (the critical path, priced at in-region
 * latencies by bench/cost/model.ts), and the bytes of log lines it writes. Averaged over several runs: /proc's CPU
 * clock ticks every 10 ms.
 */
export interface IdleRunProfile {
  runs: number;
  /** Mean CPU ms a run of the thread the target runs in (the main thread also serves the simulator: an upper bound). */
  cpuMs: number;
  /** `main`: the rounds below are measured; `function thread`: the target's requests are not visible here. */
  thread: 'main' | 'function thread';
  /** The most rounds one run made (main thread only), each with the services its requests went to. */
  rounds?: IoService[][];
  /** Mean bytes of the target's own log lines a run (JSON lines whose `service` is the target). */
  logBytes: number;
  /** The Powertools level the functions logged at (deployed: INFO). */
  logLevel: string;
}

function cpuOf(snapshot: ThreadCpuSnapshot, main: boolean): number {
  let ms = 0;
  for (const [tid, t] of snapshot.threads) {
    const component = componentOfThread(tid, t.name);
    if (main ? component === 'main thread' : component.startsWith('fn:')) ms += t.cpuMs;
  }
  return ms;
}

/** Counts the bytes of JSON log lines written to this process's stdout whose `service` is `service`. */
function countLogBytes(service: string): { stop(): number } {
  const marker = `"service":"${service}"`;
  let bytes = 0;
  let partial = '';
  const write = process.stdout.write.bind(process.stdout);
  const counting = (chunk: unknown, ...rest: unknown[]): boolean => {
    const text = partial + (typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.includes(marker)) bytes += Buffer.byteLength(line) + 1;
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  };
  process.stdout.write = counting as typeof process.stdout.write;
  return {
    stop: () => {
      process.stdout.write = write;
      return bytes;
    },
  };
}

/**
 * Runs a settled schedule `runs` times (`run` resolves when its handler has returned; `settle` when the stack is idle
 * again, so a worker thread's log lines have reached this thread's stdout).
 */
export async function profileIdleRuns(options: {
  target: string;
  inMainThread: boolean;
  runs: number;
  run: () => Promise<void>;
  settle: () => Promise<void>;
}): Promise<IdleRunProfile | undefined> {
  if (!threadCpuAvailable()) return undefined;
  let cpuMs = 0;
  let logBytes = 0;
  let rounds: IoService[][] | undefined;
  for (let i = 0; i < options.runs; i++) {
    const logs = countLogBytes(options.target);
    const before = threadCpuSnapshot();
    const io = options.inMainThread ? trackIoRounds(isPollerReceive) : undefined;
    try {
      await options.run();
    } finally {
      const measured = io?.stop();
      cpuMs += cpuOf(threadCpuSnapshot(), options.inMainThread) - cpuOf(before, options.inMainThread);
      if (measured && (rounds === undefined || measured.rounds.length > rounds.length)) rounds = measured.rounds;
      await options.settle();
      logBytes += logs.stop();
    }
  }
  return {
    runs: options.runs,
    cpuMs: Math.round((cpuMs / options.runs) * 10) / 10,
    thread: options.inMainThread ? 'main' : 'function thread',
    ...(rounds ? { rounds } : {}),
    logBytes: Math.round(logBytes / options.runs),
    logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO').toUpperCase(),
  };
}
