import { z } from 'zod';
import { GroupVersionResourceSchema, LabelSelectorSchema, TmcObjectMetaSchema } from './common';

/** `scheduling.kcp.io/v1alpha1` Location: a named set of SyncTargets chosen by label, which Placements select by label. */
export const SCHEDULING_GROUP = 'scheduling.kcp.io';
export const SCHEDULING_VERSION = 'v1alpha1';
export const LOCATION_KIND = 'Location';
export const LOCATION_RESOURCE = 'locations';

export const LocationSpecSchema = z.object({
  resource: GroupVersionResourceSchema.describe(
    'The instances this Location groups: workload.kcp.io/v1alpha1 synctargets',
  ),
  instanceSelector: LabelSelectorSchema.optional().describe(
    'Which SyncTargets belong to this Location; empty selects all',
  ),
  description: z.string().optional().describe('Free text for people'),
});

export const LocationStatusSchema = z.object({
  instances: z.number().int().nonnegative().optional().describe('How many SyncTargets the Location selects'),
  availableInstances: z.number().int().nonnegative().optional().describe('How many of them are Ready and schedulable'),
});

export const LocationSchema = z.object({
  apiVersion: z.literal(`${SCHEDULING_GROUP}/${SCHEDULING_VERSION}`),
  kind: z.literal(LOCATION_KIND),
  metadata: TmcObjectMetaSchema,
  spec: LocationSpecSchema,
  status: LocationStatusSchema.optional(),
});
export type Location = z.infer<typeof LocationSchema>;
