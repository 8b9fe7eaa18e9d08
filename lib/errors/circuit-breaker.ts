import { systemClock, type Clock } from '../ports/clock';
import { randomUUID } from 'node:crypto';
import type { CircuitRecord, CircuitState, CircuitStore } from '../ports/circuit-store';
import { asTmcError, type ErrorCategory } from './tmc-error';

/**
 * A per-cluster circuit breaker whose state every Lambda container shares through a CircuitStore (DynamoDB), so a
 * dead cluster costs one probe per interval across the fleet instead of a timeout per message.
 *
 *   closed ──N consecutive counted failures──▶ open ──openInterval elapsed, one container claims the probe──▶ half-open
 *   half-open ──success──▶ closed          half-open ──failure──▶ open (interval restarts)
 *
 * Every transition is a compare-and-set on the record's `version`. The half-open probe slot is claimed by such a write,
 * so when two containers both see the interval elapse only one wins the write and probes; the other is told to wait.
 *
 * Read cache (trade-off): each breaker instance (one per container) trusts what it last read or wrote for
 * `cacheTtlMs` (default 1.5 s), so the hot path — `allow` then `recordSuccess` on a closed circuit with no failures —
 * does no DynamoDB I/O at all. The price: for up to that long after another container opens the circuit, this
 * container may still send a few requests to the dead cluster (each fails fast or times out and is retried by SQS),
 * and a half-open probe may be seen a moment late. Failure counting always ends in a conditional write, so counts are
 * never lost to a stale cache, only re-read and re-applied.
 *
 * Single flight: a cache miss starts one read per cluster and every caller that misses while it is in flight shares
 * it, so a batch of messages for one cluster costs one GetItem, not one per message. The shared result is no staler
 * than a read of each caller's own (it started no earlier than the first miss, and is cached from when it returned).
 * A fresh read (after a lost compare-and-set) never joins a read that may predate the write it lost to.
 */

export interface CircuitBreakerOptions {
  store: CircuitStore;
  /** Consecutive counted failures that open the circuit. */
  failureThreshold?: number;
  /** How long an open circuit stays open before one probe is allowed. */
  openIntervalMs?: number;
  /** How long a claimed probe may take before another container may take the slot over (holder crashed). */
  probeTimeoutMs?: number;
  /** How long this instance trusts its last read; 0 disables caching. */
  cacheTtlMs?: number;
  /** Error categories that count as the cluster failing; anything else (404, 409, validation) is not the cluster's fault. */
  countedCategories?: ReadonlySet<ErrorCategory>;
  now?: Clock;
  /** Names this container in the probe claim (random by default). */
  instanceId?: string;
}

/** What a consumer does with a message for this cluster now. */
export type CircuitDecision =
  | {
      allowed: true;
      state: CircuitState;
      /** this call holds the half-open probe slot: report its outcome */ probe: boolean;
    }
  | {
      allowed: false;
      state: CircuitState;
      /** defer the message (ChangeMessageVisibility) at least this long */ retryAfterSeconds: number;
      reason: string;
    };

export const DEFAULT_COUNTED_CATEGORIES: ReadonlySet<ErrorCategory> = new Set<ErrorCategory>([
  'cluster-unreachable',
  'cluster-unavailable',
]);

export const CIRCUIT_DEFAULTS = {
  failureThreshold: 5,
  openIntervalMs: 30_000,
  // sync-apply's Lambda timeout: a probe that has not reported by then belongs to a container that died.
  probeTimeoutMs: 60_000,
  cacheTtlMs: 1_500,
} as const;

const MAX_CAS_ATTEMPTS = 4;

interface CacheEntry {
  record: CircuitRecord | undefined;
  readAt: number;
}

/** The breaker. One instance per container (built in the composition root), shared by every message it handles. */
export class CircuitBreaker {
  private readonly store: CircuitStore;
  private readonly failureThreshold: number;
  private readonly openIntervalMs: number;
  private readonly probeTimeoutMs: number;
  private readonly cacheTtlMs: number;
  private readonly counted: ReadonlySet<ErrorCategory>;
  private readonly now: Clock;
  readonly instanceId: string;
  private readonly cache = new Map<string, CacheEntry>();
  /** The read in flight per cluster, which cache misses share (single flight). */
  private readonly reading = new Map<string, Promise<CircuitRecord | undefined>>();

  constructor(options: CircuitBreakerOptions) {
    this.store = options.store;
    this.failureThreshold = options.failureThreshold ?? CIRCUIT_DEFAULTS.failureThreshold;
    this.openIntervalMs = options.openIntervalMs ?? CIRCUIT_DEFAULTS.openIntervalMs;
    this.probeTimeoutMs = options.probeTimeoutMs ?? CIRCUIT_DEFAULTS.probeTimeoutMs;
    this.cacheTtlMs = options.cacheTtlMs ?? CIRCUIT_DEFAULTS.cacheTtlMs;
    this.counted = options.countedCategories ?? DEFAULT_COUNTED_CATEGORIES;
    this.now = options.now ?? systemClock;
    this.instanceId = options.instanceId ?? randomUUID();
  }

  /**
   * May a request go to `cluster` now? Closed: yes. Open before its interval: no, with the seconds left. Open after
   * its interval (or half-open with an abandoned probe): yes for exactly one caller across all containers — the one
   * whose conditional write claims the probe slot — and no for everyone else.
   */
  async allow(cluster: string): Promise<CircuitDecision> {
    let record = await this.read(cluster, false);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
      if (record === undefined || record.state === 'closed') return { allowed: true, state: 'closed', probe: false };
      const now = this.now();
      if (record.state === 'open') {
        const dueAt = Date.parse(record.openedAt ?? record.updatedAt) + this.openIntervalMs;
        if (now < dueAt)
          return this.deny(
            record.state,
            dueAt - now,
            `Circuit for ${cluster} is open after ${record.failures} failure(s)`,
          );
      } else {
        const claimExpiresAt = Date.parse(record.probeClaimedAt ?? record.updatedAt) + this.probeTimeoutMs;
        if (now < claimExpiresAt) {
          // The probe's outcome normally arrives within seconds; the open interval is a fair guess at when to look again.
          return this.deny(
            record.state,
            Math.min(claimExpiresAt - now, this.openIntervalMs),
            `Circuit for ${cluster} is half-open; another request is probing`,
          );
        }
      }
      const claim: CircuitRecord = {
        ...record,
        state: 'half-open',
        probeClaimedAt: new Date(now).toISOString(),
        probeOwner: this.instanceId,
        updatedAt: new Date(now).toISOString(),
        version: record.version + 1,
      };
      if (await this.store.compareAndSet(claim, record.version)) {
        this.remember(cluster, claim);
        return { allowed: true, state: 'half-open', probe: true };
      }
      record = await this.read(cluster, true);
    }
    return this.deny(record?.state ?? 'open', 1_000, `Circuit for ${cluster} is contended`);
  }

  /**
   * The cluster answered. On a closed circuit with no failures this does nothing (no I/O); otherwise it closes the
   * circuit and resets the count. A success reported while the circuit is open came from a request that started
   * before it opened; it is ignored and the half-open probe decides.
   */
  async recordSuccess(cluster: string): Promise<void> {
    let record = await this.read(cluster, false);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
      if (record === undefined || record.state === 'open' || (record.state === 'closed' && record.failures === 0))
        return;
      const now = new Date(this.now()).toISOString();
      const next: CircuitRecord = {
        cluster,
        state: 'closed',
        failures: 0,
        updatedAt: now,
        version: record.version + 1,
        lastFailure: record.lastFailure,
      };
      if (await this.store.compareAndSet(next, record.version)) {
        this.remember(cluster, next);
        return;
      }
      record = await this.read(cluster, true);
    }
  }

  /**
   * A request to the cluster failed. Only categories in `countedCategories` count (a 404 or a validation error says
   * nothing about the cluster). Resolves to the circuit's state after the failure.
   */
  async recordFailure(cluster: string, err: unknown): Promise<CircuitState> {
    const error = asTmcError(err);
    let record = await this.read(cluster, false);
    if (!this.counted.has(error.category)) return record?.state ?? 'closed';
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
      if (record?.state === 'open') return 'open';
      const base: CircuitRecord = record ?? { cluster, state: 'closed', failures: 0, updatedAt: '', version: 0 };
      const now = new Date(this.now()).toISOString();
      const failures = base.failures + 1;
      const opens = base.state === 'half-open' || failures >= this.failureThreshold;
      const next: CircuitRecord = {
        cluster,
        state: opens ? 'open' : 'closed',
        failures,
        openedAt: opens ? now : undefined,
        lastFailure: { category: error.category, message: error.message.slice(0, 500) },
        updatedAt: now,
        version: base.version + 1,
      };
      if (await this.store.compareAndSet(next, base.version)) {
        this.remember(cluster, next);
        return next.state;
      }
      record = await this.read(cluster, true);
    }
    return record?.state ?? 'closed';
  }

  /** The circuit as last read (fresh when asked), for the health API and tests. */
  async current(cluster: string, fresh = true): Promise<CircuitRecord | undefined> {
    return this.read(cluster, fresh);
  }

  private deny(state: CircuitState, waitMs: number, reason: string): CircuitDecision {
    return { allowed: false, state, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), reason };
  }

  private async read(cluster: string, fresh: boolean): Promise<CircuitRecord | undefined> {
    const cached = this.cache.get(cluster);
    if (!fresh && cached !== undefined && this.now() - cached.readAt < this.cacheTtlMs) return cached.record;
    const inFlight = fresh ? undefined : this.reading.get(cluster);
    if (inFlight !== undefined) return inFlight;
    const read = this.store.get(cluster).then((record) => this.rememberRead(cluster, record));
    // Later misses join the newest read; a settled one is dropped so the next miss reads again.
    this.reading.set(cluster, read);
    const forget = (): void => {
      if (this.reading.get(cluster) === read) this.reading.delete(cluster);
    };
    read.then(forget, forget);
    return read;
  }

  /**
   * A read sent before a newer record reached this instance (its own write, or a later read) may answer after it:
   * versions only grow and circuit items are never deleted, so the higher version is the newer one. Caching the
   * older answer would, for instance, show a circuit this container just opened as closed for `cacheTtlMs`.
   */
  private rememberRead(cluster: string, record: CircuitRecord | undefined): CircuitRecord | undefined {
    const known = this.cache.get(cluster)?.record;
    if (known !== undefined && known.version > (record?.version ?? 0)) return known;
    this.remember(cluster, record);
    return record;
  }

  private remember(cluster: string, record: CircuitRecord | undefined): void {
    if (this.cacheTtlMs > 0) this.cache.set(cluster, { record, readAt: this.now() });
  }
}
