import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { z } from 'zod';

/**
 * One thread's V8 heap as it reports it over its message port (the functions' threads, the emulators'), or the main
 * thread's own: process.memoryUsage() is the process's, and a worker's heap is not in it.
 */
export const ThreadHeapSchema = z.object({
  /** Live objects and garbage not yet collected. */
  usedBytes: z.number().nonnegative(),
  /** What the heap has reserved from the OS. */
  totalBytes: z.number().nonnegative(),
  /** Memory V8 itself malloc'ed outside the heap (compiled code metadata, zones). */
  mallocedBytes: z.number().nonnegative(),
  /** Memory held by JS objects outside the heap (Buffers, ArrayBuffers) that V8 was told about. */
  externalBytes: z.number().nonnegative(),
  /** Of `totalBytes`, what the young generation has reserved (it grows towards its limit and stays: not retained data). */
  youngBytes: z.number().nonnegative(),
});
export type ThreadHeap = z.infer<typeof ThreadHeapSchema>;

/** This thread's heap now. */
export function threadHeapNow(): ThreadHeap {
  const stats = getHeapStatistics();
  return {
    usedBytes: stats.used_heap_size,
    totalBytes: stats.total_heap_size,
    mallocedBytes: stats.malloced_memory,
    externalBytes: stats.external_memory,
    youngBytes: youngGenerationBytes(getHeapSpaceStatistics()),
  };
}

/** The young generation's reserved size from V8's heap spaces (`new_space`, `new_large_object_space`). */
export function youngGenerationBytes(spaces: Array<{ space_name: string; space_size: number }>): number {
  return spaces
    .filter((space) => space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
    .reduce((sum, space) => sum + space.space_size, 0);
}

let gc: (() => void) | undefined;

/**
 * A full garbage collection of this thread's isolate now, so {@link threadHeapNow} reports what is retained. V8 exposes
 * `gc` only to contexts created after `--expose-gc` is set, hence the new context; measurement only (the benchmark).
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    const exposed: unknown = runInNewContext('gc');
    if (typeof exposed !== 'function') throw new Error('V8 did not expose gc after --expose-gc');
    gc = () => void Reflect.apply(exposed, undefined, []);
  }
  gc();
}
