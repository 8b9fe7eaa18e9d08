import type { IncomingMessage } from 'node:http';

/** Who a request is from, as kube-apiserver's authenticators name it (what admission's `request.userInfo` holds). */
export interface SimUser {
  username: string;
  groups: string[];
}

/** A bearer token nobody registered: the simulator accepts any token, and names its holder this. */
export const UNKNOWN_TOKEN_USER = 'token-user';
const ANONYMOUS: SimUser = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/**
 * Bearer tokens to users, as kube-apiserver's static token file (`--token-auth-file`) maps them: a registered token
 * is its user (plus `system:authenticated`), any other token `token-user`, no token `system:anonymous`.
 */
export class TokenAuthenticator {
  private readonly users = new Map<string, SimUser>();

  /** Registers (or replaces) the user a token authenticates as. */
  register(token: string, user: { username: string; groups?: string[] }): void {
    const groups = [...new Set([...(user.groups ?? []), 'system:authenticated'])];
    this.users.set(token, { username: user.username, groups });
  }

  userOf(req: IncomingMessage): SimUser {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) return ANONYMOUS;
    return (
      this.users.get(auth.slice('Bearer '.length)) ?? { username: UNKNOWN_TOKEN_USER, groups: ['system:authenticated'] }
    );
  }
}
