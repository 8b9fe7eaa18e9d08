import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigurationError } from '../../errors/tmc-error';

/** Reads a secret's string value by ARN or name. Values are never logged; errors name the ARN only. */
export interface SecretReader {
  read(arn: string): Promise<string>;
}

/** Secrets Manager, with a short per-container cache so a burst of invocations makes one call, and rotation lands soon. */
export class SecretsManagerSecretReader implements SecretReader {
  private readonly cache = new Map<string, { at: number; value: Promise<string> }>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly ttlMs: number = 60_000,
  ) {}

  async read(arn: string): Promise<string> {
    const hit = this.cache.get(arn);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    const value = this.fetch(arn);
    this.cache.set(arn, { at: Date.now(), value });
    value.catch(() => this.cache.delete(arn));
    return value;
  }

  private async fetch(arn: string): Promise<string> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: arn }));
      if (out.SecretString !== undefined) return out.SecretString;
      if (out.SecretBinary !== undefined) return Buffer.from(out.SecretBinary).toString('utf8');
    } catch (err) {
      throw new ConfigurationError(`Secret ${arn} could not be read`, { cause: err });
    }
    throw new ConfigurationError(`Secret ${arn} has no value`);
  }
}
