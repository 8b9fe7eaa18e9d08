import { randomBytes } from 'node:crypto';
import { parseTokenEntries, type TokenEntry } from './token-source';

/** A new webhook token: 36 random bytes, base64url (48 characters), like the one the stack generates. */
export function newWebhookToken(): string {
  return randomBytes(36).toString('base64url');
}

/**
 * The token secret's value after a rotation: `token` first (the one `tmc webhooks install --token-secret` hands to
 * kcp and the clusters), every token still accepted before it kept until `now + graceMs` (or its own earlier expiry),
 * tokens already expired dropped. During the grace period callers holding the old token are still accepted, so kcp and
 * the clusters can be moved to the new one without a refused call.
 */
export function rotateTokenSecret(value: string | undefined, token: string, graceMs: number, now: number): string {
  const previous = value === undefined ? [] : parseTokenEntries(value);
  const graceEnd = now + graceMs;
  const kept: TokenEntry[] = previous
    .filter((e) => e.token !== token && (e.expiresAt === undefined || now < e.expiresAt))
    .map((e) => ({ token: e.token, expiresAt: Math.min(e.expiresAt ?? graceEnd, graceEnd) }));
  return JSON.stringify({
    tokens: [
      { token },
      ...kept.map((e) => ({ token: e.token, expiresAt: new Date(e.expiresAt ?? graceEnd).toISOString() })),
    ],
  });
}

/** Where the token secret is read and written (Secrets Manager in the CLI, memory in tests). */
export interface TokenSecretStore {
  read(arn: string): Promise<string>;
  write(arn: string, value: string): Promise<void>;
}

/** Rotates the webhook token in `arn`: returns when the previous tokens stop being accepted. */
export async function rotateWebhookToken(
  store: TokenSecretStore,
  arn: string,
  options: { graceMs: number; now?: number; token?: string },
): Promise<{ previousAcceptedUntil: Date; previousCount: number }> {
  const now = options.now ?? Date.now();
  const value = await store.read(arn);
  const next = rotateTokenSecret(value, options.token ?? newWebhookToken(), options.graceMs, now);
  await store.write(arn, next);
  return { previousAcceptedUntil: new Date(now + options.graceMs), previousCount: parseTokenEntries(next).length - 1 };
}
