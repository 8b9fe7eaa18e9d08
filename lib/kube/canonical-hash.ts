import { createHash, createHmac } from 'node:crypto';
import { canonicalJson } from './canonical-json';

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
