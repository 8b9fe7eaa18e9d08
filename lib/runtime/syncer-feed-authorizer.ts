import { DynamoStatusCredentialStore } from '../adapters/dynamodb/status-credential-store';
import { StatusCredentialAuthenticator } from '../auth/status-credentials';
import { makeFeedAuthorizer, type FeedAuthorizerDeps, type FeedAuthorizerResult } from '../vw/syncer-feed-routes';
import { makeDynamoDocumentClient } from './aws';
import { loadConfig, tableNameOf, type Environment } from './config';
import { fromPowertools, functionLogger } from './logger';

export { makeFeedAuthorizer, type FeedAuthorizerResult };

/** Builds the change feed's authorizer deps (`syncer-feed-authorizer`) from the environment, once per container. */
export function buildFeedAuthorizerDeps(env: Environment = process.env): FeedAuthorizerDeps {
  const config = loadConfig(env, { table: true });
  const doc = makeDynamoDocumentClient(config);
  const credentials = new StatusCredentialAuthenticator(
    new DynamoStatusCredentialStore(doc, tableNameOf(config), { kind: 'SYNCERCRED' }),
  );
  const logger = functionLogger('syncer-feed-authorizer');
  return {
    authenticate: (subject, token) => credentials.authenticate(subject, token),
    logger: fromPowertools(logger),
  };
}
