export { bearerToken, matchesAnyToken } from './constant-time';
export { parseTokenSecret, SecretTokenSource, StaticTokenSource, type TokenSource } from './token-source';
export { WebhookAuthenticator, type AuthResult } from './webhook-authenticator';
