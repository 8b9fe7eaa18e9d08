import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time per thread of this process from /proc/self/task/<tid>/stat (Linux), grouped by the names the local stack
 * gives its worker threads (lib/local/thread-name.mjs): each function's thread (`fn:<name>`), dynalite (`emu:dynamodb`),
 * fauxqs (`emu:sqs`), tsx's module loaders of those threads (`ld:…`), the main thread (the simulator, the stack's pollers and HTTP servers, the harness), and the rest
 * (V8's background threads: concurrent GC and compilers; libuv's pool). CPU of threads that exited between two
 * snapshots is in the process's total but in no thread's: it is reported as `exited threads`.
 */

export interface ThreadCpuSnapshot {
  /** tid → name and CPU ms (user + system). */
  threads: Map<number, { name: string; cpuMs: number }>;
  /** The process's CPU ms (user + system), exited threads included. */
  processCpuMs: number;
}

/** Clock ticks per second of /proc's utime/stime: USER_HZ, 100 on every Linux Node supports. */
const TICKS_PER_SECOND = 100;
const MS_PER_TICK = 1000 / TICKS_PER_SECOND;

/** utime + stime (fields 14 and 15) of a stat line; the name (field 2) may hold spaces and parentheses. */
function cpuMsOf(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
}

/** Whether per-thread CPU can be read here (Linux /proc). */
export function threadCpuAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export function threadCpuSnapshot(): ThreadCpuSnapshot {
  const threads = new Map<number, { name: string; cpuMs: number }>();
  for (const entry of readdirSync('/proc/self/task')) {
    const tid = Number(entry);
    try {
      const name = readFileSync(`/proc/self/task/${entry}/comm`, 'utf8').trim();
      threads.set(tid, { name, cpuMs: cpuMsOf(readFileSync(`/proc/self/task/${entry}/stat`, 'utf8')) });
    } catch (err) {
      // The thread exited between the listing and the read: its CPU shows in `exited threads`.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ESRCH')
        throw err;
    }
  }
  return { threads, processCpuMs: cpuMsOf(readFileSync('/proc/self/stat', 'utf8')) };
}

/** The component a thread's CPU counts toward. */
export function componentOfThread(tid: number, name: string): string {
  if (tid === process.pid) return 'main thread';
  if (name === 'emu:dynamodb') return 'dynalite';
  if (name === 'emu:sqs') return 'fauxqs';
  if (name.startsWith('fn:')) return name;
  // tsx's module hooks of a worker (lib/local/function-worker.mjs names them): compiling TypeScript as it loads.
  if (name.startsWith('ld:')) return 'module loaders';
  // V8's CPU profiler's event thread: the benchmark's own main-thread profile (bench/support/main-thread-profile.ts).
  if (name === 'v8:ProfEvntProc') return 'harness: profiler';
  return 'V8/libuv background';
}

export interface ThreadCpuDelta {
  /** component → CPU ms. */
  byComponent: Record<string, number>;
  /** The busiest threads, for explaining a component's figure. */
  busiest: Array<{ tid: number; name: string; cpuMs: number }>;
}

/** CPU ms per component between two snapshots (threads started in between count from zero). */
export function threadCpuDelta(before: ThreadCpuSnapshot, after: ThreadCpuSnapshot): ThreadCpuDelta {
  const out: Record<string, number> = {};
  const perThread: ThreadCpuDelta['busiest'] = [];
  let live = 0;
  for (const [tid, thread] of after.threads) {
    const was = before.threads.get(tid);
    // A reused tid with less CPU than before is a new thread.
    const delta = was !== undefined && was.cpuMs <= thread.cpuMs ? thread.cpuMs - was.cpuMs : thread.cpuMs;
    const component = componentOfThread(tid, thread.name);
    out[component] = (out[component] ?? 0) + delta;
    live += delta;
    if (delta > 0) perThread.push({ tid, name: thread.name, cpuMs: delta });
  }
  const exited = after.processCpuMs - before.processCpuMs - live;
  if (exited > 0) out['exited threads'] = exited;
  return { byComponent: out, busiest: perThread.sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 12) };
}
