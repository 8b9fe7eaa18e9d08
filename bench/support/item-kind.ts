/**
 * The kind of an item by its sort key: the prefix before `#` (`SYNC`, `STATUS`, `DECISION`, …); `OTHER` for a sort
 * key that is no such word (a recovery journal entry's time, an outbox entry's trace id, a syncer connection's id).
 * Health items share the sort key `HEALTH`: a function's (`COMPONENT#<fn>`, off gsi1) is told from a cluster's (on
 * gsi1) by its partition key, `COMPONENT`, since the two are written by different code and billed differently.
 */
export function itemKind(sk: string | undefined, pk?: string): string {
  if (sk === undefined) return '?';
  const hash = sk.indexOf('#');
  const prefix = hash < 0 ? sk : sk.slice(0, hash);
  if (prefix === 'HEALTH' && pk?.startsWith('COMPONENT#')) return 'COMPONENT';
  return /^[A-Z][A-Z0-9_]*$/.test(prefix) ? prefix : 'OTHER';
}
