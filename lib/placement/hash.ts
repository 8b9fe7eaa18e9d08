/**
 * FNV-1a, 32 bit: a fast, allocation-free, platform-independent hash for deterministic tie-breaks and rendezvous
 * hashing. Not for security.
 */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Rendezvous (highest-random-weight) score of `member` for `key`: the same key picks the same member everywhere. */
export function rendezvous(key: string, member: string): number {
  // Mix the key hash into the member hash; then a final avalanche so that close names spread out.
  let h = fnv1a(member, fnv1a(key) ^ 0x9e3779b9);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}
