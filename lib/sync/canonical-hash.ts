import { createHash, createHmac } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth, so two objects that differ only in key order serialise identically.
 * Arrays keep their order (order is meaningful in Kubernetes lists such as containers and env). `undefined` members
 * are dropped, as JSON.stringify drops them.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** `sha256:<hex>` of the canonical JSON: the identity of a desired downstream object for zero-write resyncs. */
export function stableHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

/**
 * Where the key for Secret content hashes comes from (lib/runtime/content-key.ts): Secrets Manager in the cloud, a
 * file in the state directory on the local stack. Read only when a Secret is hashed.
 */
export type ContentKeySource = () => Promise<Uint8Array>;

/** A core/v1 Secret, whose content is hashed with a key rather than plainly. */
export function isSecretObject(object: { apiVersion?: unknown; kind?: unknown }): boolean {
  return object.kind === 'Secret' && object.apiVersion === 'v1';
}

/** The key to hash `object` with: the content key for a Secret, none for anything else. */
export async function contentKeyFor(
  object: { apiVersion?: unknown; kind?: unknown },
  source: ContentKeySource,
): Promise<Uint8Array | undefined> {
  return isSecretObject(object) ? source() : undefined;
}

/**
 * `hmac-sha256:<hex>` of the canonical JSON. A plain hash of a Secret stored in DynamoDB would let anyone who can read
 * the table confirm a guessed value offline; without the key, the stored value says nothing about the data, while a
 * change of data still changes it.
 */
export function keyedHash(value: unknown, key: Uint8Array): string {
  return `hmac-sha256:${createHmac('sha256', key).update(canonicalJson(value)).digest('hex')}`;
}
