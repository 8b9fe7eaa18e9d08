/**
 * JSON with object keys sorted at every depth, so two objects that differ only in key order serialise identically.
 * Arrays keep their order (order is meaningful in Kubernetes lists such as containers and env). `undefined` members
 * are dropped, as JSON.stringify drops them. Built by appending to one string per level rather than through
 * map/filter/join: it runs on every desired object and status report, and its output (hashed and stored) must not
 * change.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole stays empty, as Array.prototype.join writes it.
      if (!(i in value)) continue;
      const item: unknown = value[i];
      out += item === undefined ? 'null' : canonicalJson(item);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}
