import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import { buildFeedRouteDeps, makeFeedRoutes, type FeedRouteResult } from '../../lib/runtime/syncer-feed';

/** The change feed's WebSocket routes, `$connect`, `$disconnect` and `$default` (lib/vw/syncer-feed-routes.ts). */
let inner: ((event: unknown) => Promise<FeedRouteResult>) | undefined;

async function syncerFeed(event: unknown): Promise<FeedRouteResult> {
  inner ??= makeFeedRoutes(buildFeedRouteDeps());
  return inner(event);
}

export const handler = middy<unknown, FeedRouteResult>().handler((event, context) =>
  withInvocationDeadline(context, () => syncerFeed(event)),
);
