/**
 * What one invocation has read or written, by key, so that its messages do not read the same item again. Dropped
 * with its invocation ({@link close}) and never used by a later one: another container may write between two
 * invocations. Concurrent callers of {@link read} share one request; a read that fails is forgotten.
 */
export class InvocationCache<T> {
  private readonly values = new Map<string, Promise<T>>();

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** The value kept under `key`, or `load()` kept there. */
  read(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.values.get(key);
    if (hit) return hit;
    const value = load();
    this.values.set(key, value);
    value.catch(() => {
      if (this.values.get(key) === value) this.values.delete(key);
    });
    return value;
  }

  /** A value read ahead (a batch read): kept unless something newer is known already. */
  offer(key: string, value: T): void {
    if (!this.values.has(key)) this.values.set(key, Promise.resolve(value));
  }

  /** This invocation wrote `value` under `key`: its later reads answer with it. */
  wrote(key: string, value: T): void {
    this.values.set(key, Promise.resolve(value));
  }

  /** A write lost its condition: the next read of `key` goes to the table. */
  forget(key: string): void {
    this.values.delete(key);
  }

  /** The invocation ended: nothing it holds is used again. */
  close(): void {
    this.values.clear();
  }
}
