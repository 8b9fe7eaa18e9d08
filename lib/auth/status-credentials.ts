import { systemClock, type Clock } from '../ports/clock';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StatusCredentialStore } from '../ports/status-credential-store';

/** A new per-cluster status credential: 32 random bytes, base64url, so it fits one URL path segment unescaped. */
export function newStatusCredential(): string {
  return randomBytes(32).toString('base64url');
}

/** What the store keeps of a credential: its SHA-256, hex. The credential itself is never stored. */
export function statusCredentialDigest(credential: string): string {
  return createHash('sha256').update(credential, 'utf8').digest('hex');
}

const DIGEST = /^[0-9a-f]{64}$/;

/**
 * Checks the credential in a status webhook's path against the cluster's stored digests. Digests are compared with
 * timingSafeEqual over equal-length buffers, every candidate without stopping early.
 */
export class StatusCredentialAuthenticator {
  private readonly cache = new Map<string, { at: number; digests: Promise<string[]> }>();

  /**
   * Digests are cached per cluster for `ttlMs` (one table read per cluster per container and TTL, not per status
   * call), so a revocation or rotation takes effect within it. A failed read is not cached.
   */
  constructor(
    private readonly store: StatusCredentialStore,
    private readonly ttlMs: number = 30_000,
    private readonly now: Clock = systemClock,
  ) {}

  private digests(cluster: string): Promise<string[]> {
    const cached = this.cache.get(cluster);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.digests;
    const entry = { at: this.now(), digests: this.store.digests(cluster) };
    this.cache.set(cluster, entry);
    entry.digests.catch(() => {
      if (this.cache.get(cluster) === entry) this.cache.delete(cluster);
    });
    return entry.digests;
  }

  async authenticate(cluster: string, presented: string): Promise<boolean> {
    if (presented === '') return false;
    const digest = Buffer.from(statusCredentialDigest(presented), 'hex');
    let matched = false;
    for (const stored of await this.digests(cluster)) {
      if (!DIGEST.test(stored)) continue;
      matched = timingSafeEqual(digest, Buffer.from(stored, 'hex')) || matched;
    }
    return matched;
  }
}

/** Issues a cluster's status credential: stores its digest and returns the credential, for the webhook URL only. */
export async function issueStatusCredential(store: StatusCredentialStore, cluster: string): Promise<string> {
  const credential = newStatusCredential();
  await store.add(cluster, statusCredentialDigest(credential));
  return credential;
}
