/**
 * What one invocation has read or written, by key, so that its messages do not read the same item again. Dropped
 * with its invocation ({@link close}) and never used by a later one: another container may write between two
 * invocations. Concurrent callers of {@link read} share one request; a read that fails is forgotten.
 *
 * `peers` are the caches of the invocations running at the same time in this container (the local stack runs several
 * at once over one set of deps; a Lambda container runs one). A write this container makes is told to every one of
 * them ({@link wrote}), so an invocation that read a key before a neighbour wrote it answers with the write, as a
 * table read made after it would; without that, each would act on its stale copy and apply the same change twice.
 */
export class InvocationCache<T> {
  private readonly values = new Map<string, Promise<T>>();

  constructor(private readonly peers?: Set<InvocationCache<T>>) {
    peers?.add(this);
  }

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

  /** This container wrote `value` under `key`: every invocation running here answers with it from now on. */
  wrote(key: string, value: T): void {
    for (const cache of this.peers ?? [this]) cache.values.set(key, Promise.resolve(value));
    if (this.peers && !this.peers.has(this)) this.values.set(key, Promise.resolve(value));
  }

  /** A write lost its condition: the next read of `key` goes to the table. */
  forget(key: string): void {
    this.values.delete(key);
  }

  /** The invocation ended: no longer told of writes, and nothing it holds is used again. */
  close(): void {
    this.peers?.delete(this);
    this.values.clear();
  }
}
