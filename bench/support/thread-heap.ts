import { getHeapStatistics } from 'node:v8';

/** The JS heap of the thread this runs in; loaded into an emulator's thread (EmulatorThread.load), whose heap it reads. */
export interface ThreadHeap {
  /** Bytes the thread's V8 heap holds (live objects and garbage not yet collected). */
  usedBytes(): number;
}

export function threadHeap(): ThreadHeap {
  return { usedBytes: () => getHeapStatistics().used_heap_size };
}
