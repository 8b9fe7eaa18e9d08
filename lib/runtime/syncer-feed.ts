import { DynamoSyncerConnectionStore } from '../adapters/dynamodb/syncer-connection-store';
import { makeFeedRoutes, type FeedRouteDeps, type FeedRouteResult } from '../vw/syncer-feed-routes';
import { makeDynamoDocumentClient } from './aws';
import { loadConfig, tableNameOf, type Environment } from './config';
import { fromPowertools, functionLogger } from './logger';

export { makeFeedRoutes, type FeedRouteResult };

/** Builds the change feed's route deps (`syncer-feed`: $connect, $disconnect, $default), once per container. */
export function buildFeedRouteDeps(env: Environment = process.env): FeedRouteDeps {
  const config = loadConfig(env, { table: true });
  const logger = functionLogger('syncer-feed');
  return {
    connections: new DynamoSyncerConnectionStore(makeDynamoDocumentClient(config), tableNameOf(config)),
    logger: fromPowertools(logger),
  };
}
