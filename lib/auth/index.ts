export { bearerToken, matchesAnyToken } from './constant-time';
export { issueStatusCredential, newStatusCredential, StatusCredentialAuthenticator, statusCredentialDigest } from './status-credentials';
export { parseTokenSecret, SecretTokenSource, StaticTokenSource, type TokenSource } from './token-source';
export { WebhookAuthenticator, type AuthResult } from './webhook-authenticator';
