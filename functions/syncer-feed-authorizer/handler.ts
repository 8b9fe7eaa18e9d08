import type { FeedAuthorizerResult } from '../../lib/runtime/syncer-feed-authorizer';
import { buildFeedAuthorizerDeps, makeFeedAuthorizer } from '../../lib/runtime/syncer-feed-authorizer';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/** The change feed's `$connect` authorizer: the syncer's SyncTarget credential (lib/vw/syncer-feed-routes.ts). */
export const handler = wrapHandler<unknown, FeedAuthorizerResult>('syncer-feed-authorizer', () => ({
  handle: makeFeedAuthorizer(buildFeedAuthorizerDeps()),
}));
