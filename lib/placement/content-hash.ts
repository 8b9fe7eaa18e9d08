import { createHash, createHmac } from 'node:crypto';
import type { KubeObject } from '../kube/object';
import { STATE_LABEL_PREFIX, STATUS_ANNOTATION_PREFIXES } from '../api/labels';
import { ConfigurationError } from '../errors/tmc-error';
import { canonicalJson } from '../kube/canonical-json';
import { isSecretObject } from '../kube/canonical-hash';

const VOLATILE_METADATA = new Set([
  'resourceVersion',
  'managedFields',
  'generation',
  'creationTimestamp',
  'uid',
  'selfLink',
]);

function without(
  record: Record<string, string> | undefined,
  prefixes: readonly string[],
): Record<string, string> | undefined {
  if (!record) return undefined;
  const kept = Object.entries(record).filter(([k]) => !prefixes.some((p) => k.startsWith(p)));
  // No labels and only tmc's labels hash alike: tmc labelling an object is not a change to the object.
  return kept.length ? Object.fromEntries(kept) : undefined;
}

/**
 * Hash of what sync copies downstream: everything but status, volatile metadata and tmc's own labels and
 * annotations. Kinds without metadata.generation (ConfigMap, Secret) change here too, so "the object changed, tell
 * every cluster" works for them. Only the hash is stored, and a Secret's is an HMAC with the content key
 * (`contentKeyFor` in lib/kube/canonical-hash.ts): a plain hash in DynamoDB would confirm a guessed value.
 */
export function contentHash(object: KubeObject, secretKey?: Uint8Array): string {
  const { status: _status, metadata, ...rest } = object;
  const meta = Object.fromEntries(Object.entries(metadata).filter(([k]) => !VOLATILE_METADATA.has(k)));
  meta.labels = without(metadata.labels, [STATE_LABEL_PREFIX]);
  meta.annotations = without(metadata.annotations, STATUS_ANNOTATION_PREFIXES);
  const content = canonicalJson({ ...rest, metadata: meta });
  if (!isSecretObject(object)) return createHash('sha256').update(content).digest('hex').slice(0, 32);
  if (!secretKey) throw new ConfigurationError('A Secret is hashed only with the content key, and none was given');
  return createHmac('sha256', secretKey).update(content).digest('hex').slice(0, 32);
}
