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
  private readonly admins = new Set<string>();

  /**
   * Registers (or replaces) the user a token authenticates as. A static token's user is an admin (the simulator
   * applies RBAC to holders of issued ServiceAccount tokens only: lib/sim/rbac.ts); `issued` marks such a token.
   */
  register(token: string, user: { username: string; groups?: string[] }, issued = false): void {
    const groups = [...new Set([...(user.groups ?? []), 'system:authenticated'])];
    this.users.set(token, { username: user.username, groups });
    if (!issued) this.admins.add(user.username);
  }

  /** The user a bearer token authenticates as, if any token of this server names one (a TokenReview's answer). */
  userOfToken(token: string): SimUser | undefined {
    return this.users.get(token);
  }

  /** Whether `username` is a static token's user (or the user of unregistered tokens): an admin here. */
  isAdmin(username: string): boolean {
    return username === UNKNOWN_TOKEN_USER || this.admins.has(username);
  }

  userOf(req: IncomingMessage): SimUser {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) return ANONYMOUS;
    return (
      this.users.get(auth.slice('Bearer '.length)) ?? { username: UNKNOWN_TOKEN_USER, groups: ['system:authenticated'] }
    );
  }
}

const SA_PREFIX = 'system:serviceaccount:';

/**
 * The user a request impersonates (`kubectl --as` sends `Impersonate-User`, `--as-group` `Impersonate-Group`), as
 * kube-apiserver's impersonation filter builds it: a ServiceAccount gets its groups, everyone `system:authenticated`.
 */
export function impersonatedUser(req: IncomingMessage): SimUser | undefined {
  const header = req.headers['impersonate-user'];
  const username = Array.isArray(header) ? header[0] : header;
  if (!username) return undefined;
  const raw = req.headersDistinct['impersonate-group'] ?? [];
  const groups = raw.flatMap((g) => g.split(',').map((part) => part.trim())).filter(Boolean);
  if (username.startsWith(SA_PREFIX)) {
    const namespace = username.slice(SA_PREFIX.length).split(':')[0];
    groups.push('system:serviceaccounts', `system:serviceaccounts:${namespace}`);
  }
  return { username, groups: [...new Set([...groups, 'system:authenticated'])] };
}
