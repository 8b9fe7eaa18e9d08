import { bearerToken, matchesAnyToken } from './constant-time';
import type { TokenSource } from './token-source';

export type AuthResult = { ok: true } | { ok: false; reason: 'missing-token' | 'invalid-token' };

/**
 * Authenticates a webhook call by its `Authorization: Bearer` header. Tokens in query strings are not accepted: URLs
 * end up in access logs and in webhook configurations that many can read.
 */
export class WebhookAuthenticator {
  constructor(private readonly source: TokenSource) {}

  async authenticate(headers: Record<string, string | undefined>): Promise<AuthResult> {
    const header = headers.authorization ?? headers.Authorization;
    const token = bearerToken(header);
    if (!token) return { ok: false, reason: 'missing-token' };
    const accepted = await this.source.tokens();
    return matchesAnyToken(token, accepted) ? { ok: true } : { ok: false, reason: 'invalid-token' };
  }
}
