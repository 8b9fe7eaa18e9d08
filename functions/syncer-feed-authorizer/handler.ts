import middy from '@middy/core';
import { withInvocationDeadline } from '../../lib/errors/deadline';
import {
  buildFeedAuthorizerDeps,
  makeFeedAuthorizer,
  type FeedAuthorizerResult,
} from '../../lib/runtime/syncer-feed-authorizer';

/** The change feed's `$connect` authorizer: the syncer's SyncTarget credential (lib/vw/syncer-feed-routes.ts). */
let inner: ((event: unknown) => Promise<FeedAuthorizerResult>) | undefined;

async function feedAuthorizer(event: unknown): Promise<FeedAuthorizerResult> {
  inner ??= makeFeedAuthorizer(buildFeedAuthorizerDeps());
  return inner(event);
}

export const handler = middy<unknown, FeedAuthorizerResult>().handler((event, context) =>
  withInvocationDeadline(context, () => feedAuthorizer(event)),
);
