import type { JsonPatchOperation } from '../api/admission-review';
import { SYNC_FINALIZER } from '../api/labels';
import type { KubeObjectShape } from '../api/messages';

/**
 * The JSONPatch that adds tmc's finalizer on CREATE, so a delete in kcp completes only after downstream cleanup.
 * JSONPatch `add` to `/metadata/finalizers/-` fails when the array is absent, so the array is created whole then.
 */
export function finalizerPatch(object: KubeObjectShape): JsonPatchOperation[] {
  const finalizers = object.metadata.finalizers;
  if (!Array.isArray(finalizers)) return [{ op: 'add', path: '/metadata/finalizers', value: [SYNC_FINALIZER] }];
  if (finalizers.includes(SYNC_FINALIZER)) return [];
  return [{ op: 'add', path: '/metadata/finalizers/-', value: SYNC_FINALIZER }];
}

/** The object as kcp stores it after the patch (for the message's carried copy). */
export function withFinalizer(object: KubeObjectShape): KubeObjectShape {
  const finalizers = Array.isArray(object.metadata.finalizers) ? (object.metadata.finalizers as unknown[]) : [];
  if (finalizers.includes(SYNC_FINALIZER)) return object;
  return { ...object, metadata: { ...object.metadata, finalizers: [...finalizers, SYNC_FINALIZER] } };
}
