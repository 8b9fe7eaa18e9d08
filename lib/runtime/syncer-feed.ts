import { DynamoSyncerConnectionStore } from '../adapters/dynamodb/syncer-connection-store';
import { makeFeedRoutes, type FeedRouteDeps, type FeedRouteResult } from '../vw/syncer-feed-routes';
import { makeDynamoDocumentClient } from './aws';
import { loadConfig, tableNameOf, type Environment } from './config';
import { functionLogger } from './logger';

export { makeFeedRoutes, type FeedRouteResult };

/** Builds the change feed's route deps (`syncer-feed`: $connect, $disconnect, $default), once per container. */
export function buildFeedRouteDeps(env: Environment = process.env): FeedRouteDeps {
  const config = loadConfig(env, { table: true });
  const logger = functionLogger('syncer-feed');
  return {
    connections: new DynamoSyncerConnectionStore(makeDynamoDocumentClient(config), tableNameOf(config)),
    logger: {
      info: (m, f) => logger.info(m, f),
      warn: (m, f) => logger.warn(m, f),
      debug: (m, f) => logger.debug(m, f),
    },
  };
}
