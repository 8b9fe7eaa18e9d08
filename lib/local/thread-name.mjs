// Names the calling OS thread (Linux /proc/thread-self/comm, at most 15 bytes), so per-thread CPU in
// /proc/<pid>/task/<tid>/stat can be told apart: the benchmark's split by component reads these names
// (bench/support/thread-cpu.ts). Plain JavaScript: the worker scripts that call it get no TypeScript loader first.
import { writeFileSync } from 'node:fs';

/** Thread names the local stack gives its worker threads; the benchmark groups CPU by them. */
export const THREAD_NAME_PREFIX = { function: 'fn:', emulator: 'emu:', loader: 'ld:' };

export function nameThisThread(name) {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch (err) {
    // No /proc (macOS, Windows) or a read-only one: the thread keeps its name; nothing else depends on it.
    if (err?.code !== 'ENOENT' && err?.code !== 'EACCES' && err?.code !== 'EROFS') throw err;
  }
}
