import { z } from 'zod';
import { PermissionError } from '../errors/tmc-error';
import type { Log } from '../observability/log';
import type { SyncerConnectionStore } from '../ports/syncer-connection-store';
import { SYNCER_FEED } from '../runtime/resources';
import { FeedConnectionScopeSchema, FeedKeepaliveSchema, type FeedConnectionScope } from './syncer-feed-protocol';
import { syncerSubject } from './syncer-view';

const Strings = z.record(z.string(), z.string()).nullish();

/** A WebSocket API's REQUEST authorizer event on `$connect` (docs: apigateway-websocket-api-lambda-auth). */
const FeedAuthorizerEventSchema = z.object({
  type: z.literal('REQUEST'),
  methodArn: z.string().min(1),
  headers: Strings,
  queryStringParameters: Strings,
});

/** The IAM-policy answer a WebSocket authorizer gives (WebSocket APIs have no simple responses). */
export interface FeedAuthorizerResult {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: Array<{ Action: 'execute-api:Invoke'; Effect: 'Allow'; Resource: string }>;
  };
  /** Handed by API Gateway to every route of the connection as `requestContext.authorizer`. */
  context: FeedConnectionScope;
}

export interface FeedAuthorizerDeps {
  /** The syncers' credential check (SYNCERCRED digests), the one the virtual workspace's HTTP routes use. */
  authenticate(subject: string, token: string): Promise<boolean>;
  /** Logs about the connection, never its credential. */
  logger: Log;
}

/** API Gateway answers 401 to an authorizer that fails with exactly this message, and 500 to any other failure. */
const UNAUTHORIZED = 'Unauthorized';

function bearerOf(headers: Record<string, string> | null | undefined): string | undefined {
  const value = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1] ?? '';
  return value.startsWith('Bearer ') ? value.slice('Bearer '.length) : undefined;
}

/**
 * `$connect`'s authorizer: the SyncTarget named in the query (`workspace`, `syncTarget`) and its syncer's bearer
 * credential, checked as the virtual workspace checks its HTTP calls. A missing or wrong one is refused (401, the
 * connection is never opened); a credential store that cannot be read fails the call (500), never "allowed".
 */
export function makeFeedAuthorizer(deps: FeedAuthorizerDeps): (event: unknown) => Promise<FeedAuthorizerResult> {
  return async (event) => {
    const parsed = FeedAuthorizerEventSchema.parse(event);
    const query = parsed.queryStringParameters ?? {};
    const scope = FeedConnectionScopeSchema.safeParse({
      workspace: query[SYNCER_FEED.query.workspace],
      syncTarget: query[SYNCER_FEED.query.syncTarget],
    });
    const token = bearerOf(parsed.headers);
    if (!scope.success || token === undefined) {
      deps.logger.warn('Refusing a change-feed connection that names no SyncTarget or carries no credential', {});
      throw new PermissionError(UNAUTHORIZED);
    }
    const { workspace, syncTarget } = scope.data;
    if (!(await deps.authenticate(syncerSubject(workspace, syncTarget), token))) {
      deps.logger.warn(`Refusing a change-feed connection for ${syncTarget}: wrong credential`, {
        workspace,
        cluster: syncTarget,
      });
      throw new PermissionError(UNAUTHORIZED);
    }
    return {
      principalId: syncerSubject(workspace, syncTarget),
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: parsed.methodArn }],
      },
      context: { workspace, syncTarget },
    };
  };
}

/** The WebSocket API's event to a route's Lambda integration (the fields the feed reads). */
const FeedRouteEventSchema = z.object({
  requestContext: z.object({
    routeKey: z.string(),
    connectionId: z.string().min(1),
    authorizer: z.looseObject({}).nullish(),
  }),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().optional(),
});

export interface FeedRouteResult {
  statusCode: number;
}

export interface FeedRouteDeps {
  connections: SyncerConnectionStore;
  logger: Log;
}

/**
 * The feed's routes: `$connect` records the connection under its SyncTarget (the authorizer's context), `$disconnect`
 * forgets it, `$default` takes the syncer's keepalives. A connection whose `$disconnect` never runs expires with its
 * item's TTL, and the first post that finds it gone forgets it.
 */
export function makeFeedRoutes(deps: FeedRouteDeps): (event: unknown) => Promise<FeedRouteResult> {
  return async (event) => {
    const { requestContext, body } = FeedRouteEventSchema.parse(event);
    const { routeKey, connectionId } = requestContext;
    const scope = FeedConnectionScopeSchema.safeParse(requestContext.authorizer ?? {});
    switch (routeKey) {
      case '$connect': {
        // Only reachable through the authorizer; a missing context is a deployment fault, refused rather than stored.
        if (!scope.success)
          throw new PermissionError('A change-feed connection arrived without its authorizer context');
        const { workspace, syncTarget } = scope.data;
        deps.logger.info(`Recording a change-feed connection of ${syncTarget}`, { workspace, cluster: syncTarget });
        await deps.connections.add(syncerSubject(workspace, syncTarget), connectionId);
        return { statusCode: 200 };
      }
      case '$disconnect': {
        if (!scope.success) {
          // Its item (if any) expires with its TTL, and a post that finds the connection gone removes it.
          deps.logger.warn('A change-feed disconnect without its authorizer context: left to the TTL', {});
          return { statusCode: 200 };
        }
        const { workspace, syncTarget } = scope.data;
        deps.logger.info(`Forgetting a change-feed connection of ${syncTarget}`, { workspace, cluster: syncTarget });
        await deps.connections.remove(syncerSubject(workspace, syncTarget), connectionId);
        return { statusCode: 200 };
      }
      case '$default': {
        let keepalive = false;
        try {
          keepalive = FeedKeepaliveSchema.safeParse(JSON.parse(body ?? '')).success;
        } catch {
          keepalive = false;
        }
        if (!keepalive) deps.logger.debug('Ignoring a change-feed message that is not a keepalive', {});
        return { statusCode: keepalive ? 200 : 400 };
      }
      default:
        return { statusCode: 404 };
    }
  };
}
