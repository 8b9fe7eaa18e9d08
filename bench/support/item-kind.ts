/**
 * The kind of an item by its sort key: the prefix before `#` (`SYNC`, `STATUS`, `DECISION`, …); `OTHER` for a sort
 * key that is no such word (a recovery journal entry's time, an outbox entry's trace id, a syncer connection's id).
 */
export function itemKind(sk: string | undefined): string {
  if (sk === undefined) return '?';
  const hash = sk.indexOf('#');
  const prefix = hash < 0 ? sk : sk.slice(0, hash);
  return /^[A-Z][A-Z0-9_]*$/.test(prefix) ? prefix : 'OTHER';
}
