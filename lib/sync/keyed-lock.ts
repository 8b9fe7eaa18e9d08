/**
 * Serialises work per key inside one container. SQS hands a batch to one invocation and the batch runs with some
 * concurrency, so a Deployment and the ConfigMap it references, or two objects in one new namespace, can be worked
 * on at once: without this, both would see "not applied" and both would write. Across containers the conditional
 * writes keep state right; this only saves the duplicate writes within one.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    this.tails.set(key, current);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === current) this.tails.delete(key);
    }
  }
}
