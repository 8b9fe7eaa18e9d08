import { z } from 'zod';
import { ConfigurationError } from '../errors/tmc-error';
import { ENV, QUEUES, type QueueName } from './resources';

/**
 * The environment a function runs in, parsed once per container. Variable names come from `ENV` in resources.ts, the
 * same names the CDK stack and the local stack set, so a missing one is a deployment bug reported by name.
 */
export interface TmcConfig {
  region: string;
  stage: string;
  tableName?: string;
  queueUrls: Partial<Record<QueueName, string>>;
  dlqUrls: Partial<Record<QueueName, string>>;
  /** Local stack only: dynalite's endpoint. */
  dynamodbEndpoint?: string;
  /** Local stack only: fauxqs's endpoint. */
  sqsEndpoint?: string;
  /** Local stack: path to kcp's kubeconfig. */
  kcpKubeconfig?: string;
  /** Cloud: Secrets Manager ARN of kcp's kubeconfig. */
  kcpKubeconfigSecretArn?: string;
  /** Local stack: the accepted webhook bearer tokens (two during a rotation). */
  webhookTokens: string[];
  /** Cloud: Secrets Manager ARN holding the webhook tokens. */
  webhookTokensSecretArn?: string;
  /** Local stack: path of the file holding the key Secret content hashes are made with (lib/runtime/content-key.ts). */
  contentKeyFile?: string;
  /** Cloud: Secrets Manager ARN of that key. */
  contentKeySecretArn?: string;
}

/** What a function needs; anything listed and missing fails `loadConfig` with the variable's name. */
export interface ConfigNeeds {
  table?: boolean;
  queues?: readonly QueueName[];
  dlqs?: readonly QueueName[];
  /** kcp's kubeconfig, by path (local) or by secret (cloud): one of the two must be set. */
  kcp?: boolean;
  /** Webhook tokens, inline (local) or by secret (cloud): one of the two must be set. */
  webhookTokens?: boolean;
  /** The Secret content-hash key, by file (local) or by secret (cloud): one of the two must be set. */
  contentKey?: boolean;
}

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();
const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.url().optional())
  .optional();

export type Environment = Record<string, string | undefined>;

function read(env: Environment, name: string, schema: z.ZodType<string | undefined>): string | undefined {
  const parsed = schema.safeParse(env[name]);
  if (!parsed.success) {
    throw new ConfigurationError(
      `Environment variable ${name} is invalid: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  return parsed.data;
}

function required(name: string, value: string | undefined): string {
  if (value === undefined) throw new ConfigurationError(`Environment variable ${name} is not set`);
  return value;
}

/** Parses the environment; throws ConfigurationError naming the first missing or invalid variable. */
export function loadConfig(env: Environment = process.env, needs: ConfigNeeds = {}): TmcConfig {
  const queueUrls: Partial<Record<QueueName, string>> = {};
  const dlqUrls: Partial<Record<QueueName, string>> = {};
  for (const name of Object.keys(QUEUES) as QueueName[]) {
    const url = read(env, ENV.queueUrl(name), optionalUrl);
    const dlq = read(env, ENV.dlqUrl(name), optionalUrl);
    if (url !== undefined) queueUrls[name] = url;
    if (dlq !== undefined) dlqUrls[name] = dlq;
  }
  for (const name of needs.queues ?? []) required(ENV.queueUrl(name), queueUrls[name]);
  for (const name of needs.dlqs ?? []) required(ENV.dlqUrl(name), dlqUrls[name]);

  const tableName = read(env, ENV.tableName, optionalString);
  if (needs.table) required(ENV.tableName, tableName);

  const kcpKubeconfig = read(env, ENV.kcpKubeconfig, optionalString);
  const kcpKubeconfigSecretArn = read(env, ENV.kcpKubeconfigSecretArn, optionalString);
  if (needs.kcp && kcpKubeconfig === undefined && kcpKubeconfigSecretArn === undefined) {
    throw new ConfigurationError(
      `Environment variable ${ENV.kcpKubeconfig} (or ${ENV.kcpKubeconfigSecretArn}) is not set`,
    );
  }

  const tokens = (read(env, ENV.webhookTokens, optionalString) ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '');
  const webhookTokensSecretArn = read(env, ENV.webhookTokensSecretArn, optionalString);
  if (needs.webhookTokens && tokens.length === 0 && webhookTokensSecretArn === undefined) {
    throw new ConfigurationError(
      `Environment variable ${ENV.webhookTokens} (or ${ENV.webhookTokensSecretArn}) is not set`,
    );
  }

  const contentKeyFile = read(env, ENV.contentKeyFile, optionalString);
  const contentKeySecretArn = read(env, ENV.contentKeySecretArn, optionalString);
  if (needs.contentKey && contentKeyFile === undefined && contentKeySecretArn === undefined) {
    throw new ConfigurationError(
      `Environment variable ${ENV.contentKeyFile} (or ${ENV.contentKeySecretArn}) is not set`,
    );
  }

  return {
    region: read(env, 'AWS_REGION', optionalString) ?? read(env, 'AWS_DEFAULT_REGION', optionalString) ?? 'us-east-1',
    stage: read(env, ENV.stage, optionalString) ?? 'local',
    tableName,
    queueUrls,
    dlqUrls,
    dynamodbEndpoint: read(env, ENV.dynamodbEndpoint, optionalUrl),
    sqsEndpoint: read(env, ENV.sqsEndpoint, optionalUrl),
    kcpKubeconfig,
    kcpKubeconfigSecretArn,
    webhookTokens: tokens,
    webhookTokensSecretArn,
    contentKeyFile,
    contentKeySecretArn,
  };
}

/** The table name, or a ConfigurationError naming the variable. */
/** A non-negative number from the environment, or the default; anything else names the variable. */
export function numberFrom(env: Environment, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > max)
    throw new ConfigurationError(`Environment variable ${name} is invalid: ${raw} (a number from 0 to ${max})`);
  return value;
}

export function tableNameOf(config: TmcConfig): string {
  return required(ENV.tableName, config.tableName);
}

/** A queue's URL, or a ConfigurationError naming the variable. */
export function queueUrlOf(config: TmcConfig, name: QueueName): string {
  return required(ENV.queueUrl(name), config.queueUrls[name]);
}

/** A DLQ's URL, or a ConfigurationError naming the variable. */
export function dlqUrlOf(config: TmcConfig, name: QueueName): string {
  return required(ENV.dlqUrl(name), config.dlqUrls[name]);
}
