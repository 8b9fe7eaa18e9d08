import { z } from 'zod';
import { LogicalClusterNameSchema } from './logical-cluster';
import { KubeObjectSchema } from './messages';

/**
 * `POST /webhooks/events`: a batch of watch events from a relay (a watch on kcp forwarded to tmc) or a resync.
 * `resource` names the object's group/version/resource; a relay knows it from the watch it runs. When absent, ingress
 * derives the plural from the kind (`Deployment` → `deployments`), which is right for every built-in kind but not for
 * every CRD, so relays should send it.
 */
export const WatchEventTypeSchema = z.enum(['ADDED', 'MODIFIED', 'DELETED']);

export const WatchEventSchema = z.object({
  type: WatchEventTypeSchema,
  workspace: LogicalClusterNameSchema,
  resource: z.object({ group: z.string(), version: z.string().min(1), resource: z.string().min(1) }).optional(),
  object: KubeObjectSchema.extend({
    metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
  }),
});
export type WatchEvent = z.infer<typeof WatchEventSchema>;

/** Batches stay well under the ingress body limit; a relay with more events sends more requests. */
export const MAX_EVENTS_PER_BATCH = 500;

export const WatchEventBatchSchema = z.object({
  events: z.array(WatchEventSchema).min(1).max(MAX_EVENTS_PER_BATCH),
});
