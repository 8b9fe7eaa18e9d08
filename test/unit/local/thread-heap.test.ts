import { getHeapSpaceStatistics } from 'node:v8';
import { threadHeapNow, youngGenerationBytes } from '../../../lib/local/thread-heap';

describe('a thread heap: the young generation inside the reserved heap', () => {
  it("adds up V8's new space and new large-object space, and nothing else", () => {
    const spaces = [
      { space_name: 'new_space', space_size: 4 },
      { space_name: 'new_large_object_space', space_size: 2 },
      { space_name: 'old_space', space_size: 100 },
      { space_name: 'code_space', space_size: 7 },
    ];
    expect(youngGenerationBytes(spaces)).toBe(6);
  });

  it('reports a young generation within the reserved heap of this thread', () => {
    const heap = threadHeapNow();
    expect(heap.youngBytes).toBeGreaterThan(0);
    expect(heap.youngBytes).toBeLessThanOrEqual(heap.totalBytes);
    expect(getHeapSpaceStatistics().some((s) => s.space_name === 'new_space')).toBe(true);
  });
});
