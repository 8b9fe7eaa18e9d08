import { z } from 'zod';
import { ConditionSchema, LabelSelectorSchema } from '../api/crds/common';
import {
  LOCATION_RESOURCE,
  LocationStatusSchema,
  SCHEDULING_GROUP,
  SCHEDULING_VERSION,
  type Location,
} from '../api/crds/location';
import { SYNC_TARGET_GROUP, SYNC_TARGET_RESOURCE } from '../api/crds/sync-target';
import { NotFoundError } from '../errors/tmc-error';
import { compileLabelSelector } from '../kube-api/label-selector';
import type { KubeClient } from '../ports/kube-client';

const LOCATIONS = { group: SCHEDULING_GROUP, version: SCHEDULING_VERSION, resource: LOCATION_RESOURCE };

/** What a Location's counts need of a SyncTarget. */
const CountedSyncTargetSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string().min(1),
    labels: z.record(z.string(), z.string()).optional(),
    deletionTimestamp: z.string().optional(),
  }),
  spec: z.looseObject({ unschedulable: z.boolean().optional() }).optional(),
  status: z.looseObject({ conditions: z.array(ConditionSchema).optional() }).optional(),
});

const CountedLocationSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().min(1) }),
  spec: z.looseObject({
    resource: z.looseObject({ group: z.string().optional(), resource: z.string() }),
    instanceSelector: LabelSelectorSchema.optional(),
  }),
  status: LocationStatusSchema.optional(),
});

/** A SyncTarget as a Location counts it: its labels, and whether new work may go there now. */
export interface LocationInstance {
  name: string;
  labels: Record<string, string>;
  /** Ready True and not cordoned (`spec.unschedulable`): what upstream kcp's Location counts as available. */
  available: boolean;
}

/** What a Location's counts read of its spec. */
type LocationSelection = Pick<Location['spec'], 'instanceSelector'> & {
  resource: { group?: string; resource: string };
};

export type LocationCounts = Required<z.infer<typeof LocationStatusSchema>>;

/** A Location's `instances` (SyncTargets its instanceSelector selects) and `availableInstances` (of those, available). */
export function locationCounts(
  location: { spec: LocationSelection },
  instances: readonly LocationInstance[],
): LocationCounts {
  const { group, resource } = location.spec.resource;
  // A Location of another resource groups nothing tmc knows: zero, not a count of SyncTargets.
  if ((group ?? '') !== SYNC_TARGET_GROUP || resource !== SYNC_TARGET_RESOURCE)
    return { instances: 0, availableInstances: 0 };
  const selected = instances.filter((i) => compileLabelSelector(location.spec.instanceSelector)(i.labels));
  return { instances: selected.length, availableInstances: selected.filter((i) => i.available).length };
}

/**
 * The SyncTargets of one list, as Locations count them. `ready` overrides what a SyncTarget's listed status says with
 * what this run just decided (its status patch may be in flight). Undefined when one of them cannot be read: counts
 * from part of the list would be wrong, so the Locations keep what they say until a whole list is read.
 */
export function locationInstances(
  syncTargets: readonly unknown[],
  ready: ReadonlyMap<string, boolean>,
): LocationInstance[] | undefined {
  const instances: LocationInstance[] = [];
  for (const raw of syncTargets) {
    const parsed = CountedSyncTargetSchema.safeParse(raw);
    if (!parsed.success) return undefined;
    const { metadata, spec, status } = parsed.data;
    if (metadata.deletionTimestamp !== undefined) continue;
    const isReady = ready.get(metadata.name) ?? status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    instances.push({ name: metadata.name, labels: metadata.labels ?? {}, available: isReady && !spec?.unschedulable });
  }
  return instances;
}

export interface LocationStatusReport {
  writes: number;
  /** Locations that could not be read or written, with why (the next run tries again). */
  failures: Array<{ location?: string; message: string }>;
}

/**
 * Brings every Location's status in a workspace up to date with the SyncTargets just probed. Writes a Location only
 * when its counts change, so an idle workspace costs one list per run and no write.
 */
export async function updateLocationStatuses(
  kcp: KubeClient,
  instances: readonly LocationInstance[],
): Promise<LocationStatusReport> {
  const report: LocationStatusReport = { writes: 0, failures: [] };
  let locations: unknown[];
  try {
    locations = await kcp.list(LOCATIONS);
  } catch (err) {
    // A workspace that does not serve Locations (tmc's CRDs not installed there) has none to count; only writes follow.
    if (err instanceof NotFoundError) return report;
    throw err;
  }
  for (const raw of locations) {
    const parsed = CountedLocationSchema.safeParse(raw);
    if (!parsed.success) {
      report.failures.push({ message: `A Location is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
      continue;
    }
    const location = parsed.data;
    const counts = locationCounts(location, instances);
    if (
      location.status?.instances === counts.instances &&
      location.status?.availableInstances === counts.availableInstances
    )
      continue;
    await kcp.patchStatus({ ...LOCATIONS, name: location.metadata.name }, counts);
    report.writes += 1;
  }
  return report;
}
