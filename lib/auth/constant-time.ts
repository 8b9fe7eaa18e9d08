import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented secret with each accepted one in time independent of where they differ and of which one
 * matches: both sides are hashed to equal-length digests (timingSafeEqual needs equal lengths, and comparing raw
 * lengths would leak them), and every candidate is compared without stopping early.
 */
export function matchesAnyToken(presented: string, accepted: readonly string[]): boolean {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let matched = false;
  for (const token of accepted) {
    if (token === '') continue;
    const candidate = createHash('sha256').update(token, 'utf8').digest();
    // Bitwise OR keeps the loop free of a data-dependent early exit.
    matched = timingSafeEqual(digest, candidate) || matched;
  }
  return matched;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined for anything else. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}
