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

const TokenSecretSchema = z.union([
  z.array(z.string()),
  z.object({ tokens: z.array(z.string()) }),
]);

/**
 * The secret's value is a JSON array of tokens, `{"tokens": [...]}`, or a comma-separated string. Empty entries are
 * dropped; a secret with no token at all is a configuration error (it would lock every webhook out silently).
 */
export function parseTokenSecret(value: string): string[] {
  let tokens: string[];
  const trimmed = value.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let raw: unknown;
    try {
      raw = JSON.parse(trimmed);
    } catch {
      throw new ConfigurationError('The webhook token secret is not valid JSON');
    }
    const parsed = TokenSecretSchema.safeParse(raw);
    if (!parsed.success) throw new ConfigurationError('The webhook token secret must be a JSON array of strings or {"tokens": [...]}');
    tokens = Array.isArray(parsed.data) ? parsed.data : parsed.data.tokens;
  } else {
    tokens = trimmed.split(',');
  }
  const clean = tokens.map((t) => t.trim()).filter((t) => t !== '');
  if (clean.length === 0) throw new ConfigurationError('The webhook token secret holds no token');
  return clean;
}

/**
 * Cloud: tokens from a Secrets Manager secret, cached for `ttlMs` so a rotation is picked up within a minute without
 * a Secrets Manager call per request.
 */
export class SecretTokenSource implements TokenSource {
  private cached: { at: number; tokens: Promise<string[]> } | undefined;

  constructor(
    private readonly reader: SecretReader,
    private readonly secretArn: string,
    private readonly ttlMs: number = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async tokens(): Promise<string[]> {
    if (!this.cached || this.now() - this.cached.at >= this.ttlMs) {
      const tokens = this.reader.read(this.secretArn).then(parseTokenSecret);
      this.cached = { at: this.now(), tokens };
      tokens.catch(() => {
        if (this.cached?.tokens === tokens) this.cached = undefined;
      });
    }
    return this.cached.tokens;
  }
}
