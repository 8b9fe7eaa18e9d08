import { z } from 'zod';

/**
 * A cluster's circuit as every Lambda container sees it (item `CLUSTER#<name>/CIRCUIT`, docs/state.md).
 * `version` is the optimistic-concurrency token: every change is written only if the stored version is the one read.
 */
export const CircuitStateSchema = z.enum(['closed', 'open', 'half-open']);
export type CircuitState = z.infer<typeof CircuitStateSchema>;

export const CircuitRecordSchema = z.object({
  cluster: z.string().min(1),
  state: CircuitStateSchema,
  /** Consecutive counted failures while closed (reset by a success). */
  failures: z.number().int().nonnegative(),
  /** When the circuit last opened (ISO time); the half-open probe is due `openIntervalMs` after it. */
  openedAt: z.string().optional(),
  /** When a container claimed the half-open probe slot; a claim older than the probe timeout may be taken over. */
  probeClaimedAt: z.string().optional(),
  /** Which container holds the probe slot (a random id per breaker instance), for logs. */
  probeOwner: z.string().optional(),
  /** The last counted failure, as category and message (never request bodies or credentials). */
  lastFailure: z.object({ category: z.string(), message: z.string() }).optional(),
  updatedAt: z.string(),
  /** 0 means "no item yet"; the first write creates the item at version 1. */
  version: z.number().int().nonnegative(),
});
export type CircuitRecord = z.infer<typeof CircuitRecordSchema>;

/** Where circuits live. Implementations must make `compareAndSet` atomic across containers. */
export interface CircuitStore {
  /** The stored circuit, or undefined when the cluster never had a counted failure. Always a strong read. */
  get(cluster: string): Promise<CircuitRecord | undefined>;
  /**
   * Writes `next` (whose `version` is `expectedVersion + 1`) only when the stored version is `expectedVersion`
   * (0: only when absent). Resolves false when another writer won; never throws for a lost race.
   */
  compareAndSet(next: CircuitRecord, expectedVersion: number): Promise<boolean>;
}

/** A CircuitStore in memory: for unit tests, and to share one store between two breakers as two containers would. */
export class InMemoryCircuitStore implements CircuitStore {
  private readonly records = new Map<string, CircuitRecord>();
  /** Writes that went through, for tests that assert the hot path writes nothing. */
  writes = 0;

  async get(cluster: string): Promise<CircuitRecord | undefined> {
    const found = this.records.get(cluster);
    return found === undefined ? undefined : { ...found };
  }

  async compareAndSet(next: CircuitRecord, expectedVersion: number): Promise<boolean> {
    const current = this.records.get(next.cluster);
    if ((current?.version ?? 0) !== expectedVersion) return false;
    this.records.set(next.cluster, { ...next });
    this.writes += 1;
    return true;
  }
}
