import { readFile } from 'node:fs/promises';
import { SecretsManagerSecretReader, type SecretReader } from '../adapters/kube/secret-reader';
import { ConfigurationError } from '../errors/tmc-error';
import type { ContentKeySource } from '../kube/canonical-hash';
import type { TmcConfig } from './config';
import { makeSecretsManagerClient } from './secrets-client';

/** Shorter keys are refused: the stack generates 48 characters, the local stack 43 (32 random bytes). */
const MIN_KEY_CHARS = 32;

/**
 * The key Secret content hashes are made with (HMAC-SHA256, lib/kube/canonical-hash.ts): a Secrets Manager secret the
 * stack generates in the cloud, a file the local stack writes once into its state directory. Read on the first Secret
 * a container hashes and kept for the container's life; a failed read is not kept, so the next Secret retries.
 */
export function contentKeySource(
  config: Pick<TmcConfig, 'region' | 'contentKeyFile' | 'contentKeySecretArn'>,
  secrets: SecretReader = new SecretsManagerSecretReader(makeSecretsManagerClient(config)),
): ContentKeySource {
  let key: Promise<Uint8Array> | undefined;
  const load = async (): Promise<Uint8Array> => {
    let text: string;
    let where: string;
    if (config.contentKeySecretArn) {
      where = `secret ${config.contentKeySecretArn}`;
      text = await secrets.read(config.contentKeySecretArn);
    } else if (config.contentKeyFile) {
      where = `file ${config.contentKeyFile}`;
      const file = config.contentKeyFile;
      text = await readFile(file, 'utf8').catch((err: unknown) => {
        throw new ConfigurationError(`The content key file ${file} could not be read`, { cause: err });
      });
    } else {
      throw new ConfigurationError('No content key is configured (TMC_CONTENT_KEY_FILE or TMC_CONTENT_KEY_SECRET_ARN)');
    }
    const trimmed = text.trim();
    if (trimmed.length < MIN_KEY_CHARS)
      throw new ConfigurationError(`The content key in ${where} is shorter than ${MIN_KEY_CHARS} characters`);
    return Buffer.from(trimmed, 'utf8');
  };
  return () => {
    if (!key) {
      const loading = load();
      key = loading;
      loading.catch(() => {
        if (key === loading) key = undefined;
      });
    }
    return key;
  };
}
