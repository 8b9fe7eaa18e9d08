import type { z } from 'zod';
import { LocationSchema, LOCATION_KIND, SCHEDULING_GROUP } from './location';
import { PlacementSchema, PLACEMENT_KIND } from './placement';
import { SyncTargetSchema, SYNC_TARGET_GROUP, SYNC_TARGET_KIND } from './sync-target';

export interface FieldError {
  /** `spec.numberOfClusters`, `spec.taints[0].effect`: the path kubectl users know from API server errors. */
  field: string;
  message: string;
}

export type ValidationResult = { ok: true } | { ok: false; errors: FieldError[] };

const SCHEMAS: Record<string, z.ZodType> = {
  [`${SYNC_TARGET_GROUP}/${SYNC_TARGET_KIND}`]: SyncTargetSchema,
  [`${SCHEDULING_GROUP}/${LOCATION_KIND}`]: LocationSchema,
  [`${SCHEDULING_GROUP}/${PLACEMENT_KIND}`]: PlacementSchema,
};

export function formatFieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/**
 * Admission validation for tmc's own kinds, used by ingress to deny invalid SyncTargets, Locations and Placements
 * with the field named. Objects of other kinds are not tmc's to judge and pass.
 */
export function validateTmcObject(obj: unknown): ValidationResult {
  if (typeof obj !== 'object' || obj === null)
    return { ok: false, errors: [{ field: '', message: 'must be an object' }] };
  const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return { ok: true };
  const schema = SCHEMAS[`${apiVersion.split('/')[0]}/${kind}`];
  if (!schema) return { ok: true };
  const parsed = schema.safeParse(obj);
  if (parsed.success) return { ok: true };
  return {
    ok: false,
    errors: parsed.error.issues.map((issue) => ({ field: formatFieldPath(issue.path), message: issue.message })),
  };
}
