import type { KubeObjectShape } from '../api/messages';
import { MAX_CARRIED_MESSAGE_BYTES } from '../api/messages';
import type { ObjectRef } from '../api/object-ref';

/** Secret data must never reach a queue message, a log or a table item (STYLE.md 10). */
export function isSecret(ref: Pick<ObjectRef, 'group' | 'resource'>): boolean {
  return ref.group === '' && ref.resource === 'secrets';
}

/**
 * The object to carry in a message so the consumer can skip a read, or undefined when it must not or cannot be carried:
 * Secrets never, and nothing over MAX_CARRIED_MESSAGE_BYTES. managedFields are dropped (large, and no consumer reads them).
 */
export function carriedObject(
  ref: Pick<ObjectRef, 'group' | 'resource'>,
  object: KubeObjectShape | undefined,
): KubeObjectShape | undefined {
  if (!object || isSecret(ref)) return undefined;
  const { managedFields: _managedFields, ...metadata } = object.metadata;
  const slim: KubeObjectShape = { ...object, metadata };
  return Buffer.byteLength(JSON.stringify(slim)) <= MAX_CARRIED_MESSAGE_BYTES ? slim : undefined;
}

/** The status to carry in a status message, or undefined when it is too large (status-up then reads it). */
export function carriedStatus(status: unknown): Record<string, unknown> | undefined {
  if (typeof status !== 'object' || status === null || Array.isArray(status)) return undefined;
  const record = status as Record<string, unknown>;
  return Buffer.byteLength(JSON.stringify(record)) <= MAX_CARRIED_MESSAGE_BYTES ? record : undefined;
}
