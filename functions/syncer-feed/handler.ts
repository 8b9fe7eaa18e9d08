import type { FeedRouteResult } from '../../lib/runtime/syncer-feed';
import { buildFeedRouteDeps, makeFeedRoutes } from '../../lib/runtime/syncer-feed';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/** The change feed's WebSocket routes, `$connect`, `$disconnect` and `$default` (lib/vw/syncer-feed-routes.ts). */
export const handler = wrapHandler<unknown, FeedRouteResult>('syncer-feed', () => ({
  handle: makeFeedRoutes(buildFeedRouteDeps()),
}));
