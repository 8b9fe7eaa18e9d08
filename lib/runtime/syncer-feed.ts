import { DynamoStatusCredentialStore } from '../adapters/dynamodb/status-credential-store';
import { DynamoSyncerConnectionStore } from '../adapters/dynamodb/syncer-connection-store';
import { StatusCredentialAuthenticator } from '../auth/status-credentials';
import {
  makeFeedAuthorizer,
  makeFeedRoutes,
  type FeedAuthorizerDeps,
  type FeedAuthorizerResult,
  type FeedRouteDeps,
  type FeedRouteResult,
} from '../vw/syncer-feed-routes';
import { makeDynamoDocumentClient } from './aws';
import { loadConfig, tableNameOf, type Environment } from './config';
import { createLogger } from './logger';

export { makeFeedAuthorizer, makeFeedRoutes, type FeedAuthorizerResult, type FeedRouteResult };

/** Builds the change feed's authorizer deps (`syncer-feed-authorizer`) from the environment, once per container. */
export function buildFeedAuthorizerDeps(env: Environment = process.env): FeedAuthorizerDeps {
  const config = loadConfig(env, { table: true });
  const doc = makeDynamoDocumentClient(config);
  const credentials = new StatusCredentialAuthenticator(
    new DynamoStatusCredentialStore(doc, tableNameOf(config), { kind: 'SYNCERCRED' }),
  );
  const logger = createLogger('syncer-feed-authorizer');
  return {
    authenticate: (subject, token) => credentials.authenticate(subject, token),
    logger: { info: (m, f) => logger.info(m, f), warn: (m, f) => logger.warn(m, f) },
  };
}

/** Builds the change feed's route deps (`syncer-feed`: $connect, $disconnect, $default), once per container. */
export function buildFeedRouteDeps(env: Environment = process.env): FeedRouteDeps {
  const config = loadConfig(env, { table: true });
  const logger = createLogger('syncer-feed');
  return {
    connections: new DynamoSyncerConnectionStore(makeDynamoDocumentClient(config), tableNameOf(config)),
    logger: {
      info: (m, f) => logger.info(m, f),
      warn: (m, f) => logger.warn(m, f),
      debug: (m, f) => logger.debug(m, f),
    },
  };
}
