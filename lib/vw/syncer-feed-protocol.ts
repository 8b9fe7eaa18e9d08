import { z } from 'zod';
import { SyncMessageSchema } from '../api/messages';
import { LogicalClusterNameSchema } from '../api/logical-cluster';
import { SYNCER_FEED } from '../runtime/resources';

/**
 * The change feed's wire format (docs/virtual-workspace.md). The feed pushes one frame per change to a SyncTarget's
 * connected syncers; the syncer reconciles each message with the shared sync code. A frame is a nudge, never the
 * truth: the syncer reads the item's state through the virtual workspace before it acts.
 */
export const FeedFrameSchema = z.object({
  type: z.literal('work'),
  messages: z.array(SyncMessageSchema).min(1).max(100),
});
export type FeedFrame = z.infer<typeof FeedFrameSchema>;

/** What a syncer sends on its connection (the `$default` route): a keepalive, so API Gateway does not close it idle. */
export const FeedKeepaliveSchema = z.object({ type: z.literal('ping') });
export type FeedKeepalive = z.infer<typeof FeedKeepaliveSchema>;

/** A SyncTarget's name as kcp allows it (a DNS-1123 subdomain). */
const SyncTargetNameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);

/**
 * Whom a connection belongs to: the `$connect` authorizer's context, which API Gateway passes to every later route of
 * the connection (`requestContext.authorizer`), `$disconnect` included.
 */
export const FeedConnectionScopeSchema = z.object({
  workspace: LogicalClusterNameSchema,
  syncTarget: SyncTargetNameSchema,
});
export type FeedConnectionScope = z.infer<typeof FeedConnectionScopeSchema>;

/** Where a SyncTarget's syncer connects: the feed's URL with the SyncTarget in the query (the path is fixed). */
export function feedConnectUrl(base: string, scope: FeedConnectionScope): string {
  const url = new URL(base);
  url.searchParams.set(SYNCER_FEED.query.workspace, scope.workspace);
  url.searchParams.set(SYNCER_FEED.query.syncTarget, scope.syncTarget);
  return url.toString();
}
