import { systemClock, type Clock } from '../ports/clock';
import { z } from 'zod';
import { ConfigurationError } from '../errors/tmc-error';
import type { SecretReader } from '../adapters/kube/secret-reader';

/** The webhook tokens accepted right now. Two at once during a rotation: add the new, move callers, drop the old. */
export interface TokenSource {
  tokens(): Promise<string[]>;
}

/** Local stack: tokens from TMC_WEBHOOK_TOKENS (comma-separated). */
export class StaticTokenSource implements TokenSource {
  constructor(private readonly accepted: readonly string[]) {}
  async tokens(): Promise<string[]> {
    return [...this.accepted];
  }
}

/** One accepted token; `expiresAt` (ISO 8601) ends a rotated-out token's grace period. */
const TokenEntrySchema = z.union([z.string(), z.object({ token: z.string(), expiresAt: z.iso.datetime().optional() })]);
const TokenSecretSchema = z.union([z.array(TokenEntrySchema), z.object({ tokens: z.array(TokenEntrySchema) })]);

/** A token of the secret, with the end of its grace period (epoch ms) when it is being rotated out. */
export interface TokenEntry {
  token: string;
  expiresAt?: number;
}

/**
 * The secret's value is a JSON array of tokens, `{"tokens": [...]}`, or a comma-separated string; in the JSON forms a
 * token may be `{"token": "...", "expiresAt": "<ISO time>"}` (a rotated-out token, accepted until then). Empty entries
 * are dropped; a secret with no token at all is a configuration error (it would lock every webhook out silently).
 */
export function parseTokenEntries(value: string): TokenEntry[] {
  let entries: TokenEntry[];
  const trimmed = value.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let raw: unknown;
    try {
      raw = JSON.parse(trimmed);
    } catch {
      throw new ConfigurationError('The webhook token secret is not valid JSON');
    }
    const parsed = TokenSecretSchema.safeParse(raw);
    if (!parsed.success)
      throw new ConfigurationError(
        'The webhook token secret must be a JSON array of tokens or {"tokens": [...]}, a token a string or {"token", "expiresAt"}',
      );
    const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.tokens;
    entries = list.map((e) =>
      typeof e === 'string'
        ? { token: e }
        : { token: e.token, ...(e.expiresAt === undefined ? {} : { expiresAt: Date.parse(e.expiresAt) }) },
    );
  } else {
    entries = trimmed.split(',').map((token) => ({ token }));
  }
  const clean = entries.map((e) => ({ ...e, token: e.token.trim() })).filter((e) => e.token !== '');
  if (clean.length === 0) throw new ConfigurationError('The webhook token secret holds no token');
  return clean;
}

/** The tokens of the secret accepted at `now`: every token whose grace period has not ended, newest first. */
export function activeTokens(entries: readonly TokenEntry[], now: number): string[] {
  return entries.filter((e) => e.expiresAt === undefined || now < e.expiresAt).map((e) => e.token);
}

/** The tokens the secret's value accepts right now (see parseTokenEntries). */
export function parseTokenSecret(value: string, now: number = Date.now()): string[] {
  const tokens = activeTokens(parseTokenEntries(value), now);
  if (tokens.length === 0) throw new ConfigurationError('Every token in the webhook token secret has expired');
  return tokens;
}

/**
 * Cloud: tokens from a Secrets Manager secret, cached for `ttlMs` so a rotation is picked up within a minute without
 * a Secrets Manager call per request. A rotated-out token's expiry is checked on every call, not only on a re-read,
 * so it stops working at its `expiresAt` in every container.
 */
export class SecretTokenSource implements TokenSource {
  private cached: { at: number; tokens: Promise<TokenEntry[]> } | undefined;

  constructor(
    private readonly reader: SecretReader,
    private readonly secretArn: string,
    private readonly ttlMs: number = 60_000,
    private readonly now: Clock = systemClock,
  ) {}

  async tokens(): Promise<string[]> {
    if (!this.cached || this.now() - this.cached.at >= this.ttlMs) {
      const tokens = this.reader.read(this.secretArn).then(parseTokenEntries);
      this.cached = { at: this.now(), tokens };
      tokens.catch(() => {
        if (this.cached?.tokens === tokens) this.cached = undefined;
      });
    }
    return activeTokens(await this.cached.tokens, this.now());
  }
}
