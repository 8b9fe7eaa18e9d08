import { mainThreadProfiler, type MainThreadProfiler } from './main-thread-profile';
import {
  threadCpuAvailable,
  threadCpuDelta,
  threadCpuSnapshot,
  type ThreadCpuDelta,
  type ThreadCpuSnapshot,
} from './thread-cpu';

/**
 * CPU of a stretch of the benchmark by component: each thread's /proc CPU (thread-cpu.ts), the main thread's split by
 * its profile's shares (main-thread-profile.ts). Components: `fn:<function>` (a function's worker thread: what Lambda
 * bills), `dynalite`, `fauxqs`, `main: simulator`, `main: stack plumbing`, `main: tmc on main` (functions that run on
 * the main thread, the schedules), `main: harness`, `main: GC (main)`, `main: node internals (main)`, `V8/libuv
 * background`, `exited threads`.
 */
export interface CpuSplit {
  totalMs: number;
  byComponent: Record<string, number>;
  busiestThreads: ThreadCpuDelta['busiest'];
}

export interface CpuSplitter {
  start(): Promise<void>;
  stop(): Promise<CpuSplit | undefined>;
  close(): void;
}

/** tmc's own CPU: the functions' threads and tmc code on the main thread (what Lambda would bill). */
export function tmcCpuMs(split: CpuSplit): number {
  return Object.entries(split.byComponent).reduce(
    (n, [k, v]) => (k.startsWith('fn:') || k === 'main: tmc on main' ? n + v : n),
    0,
  );
}

/** Undefined where /proc is missing (not Linux): the split is then left out of the results. */
export function cpuSplitter(projectRoot: string): CpuSplitter | undefined {
  if (!threadCpuAvailable()) return undefined;
  const profiler: MainThreadProfiler = mainThreadProfiler(projectRoot);
  let before: ThreadCpuSnapshot | undefined;
  return {
    start: async () => {
      await profiler.start();
      before = threadCpuSnapshot();
    },
    stop: async () => {
      if (before === undefined) return undefined;
      const delta = threadCpuDelta(before, threadCpuSnapshot());
      const shares = await profiler.stop();
      before = undefined;
      const byComponent: Record<string, number> = {};
      for (const [component, ms] of Object.entries(delta.byComponent)) {
        if (component !== 'main thread') byComponent[component] = ms;
        else if (Object.keys(shares).length === 0) byComponent['main: unsplit'] = ms;
        else for (const [part, share] of Object.entries(shares)) byComponent[`main: ${part}`] = ms * share;
      }
      const totalMs = Object.values(byComponent).reduce((a, b) => a + b, 0);
      return { totalMs, byComponent, busiestThreads: delta.busiest };
    },
    close: () => profiler.close(),
  };
}
