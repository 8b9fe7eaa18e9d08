import { z } from 'zod';
import { RemoteWriteTargetSchema, type RemoteWriteTarget } from './remote-write';

/** Environment variables that configure remote-write (set by `tmc dev --prometheus-remote-write` or the CDK stack). */
export const REMOTE_WRITE_ENV = {
  url: 'TMC_PROMETHEUS_REMOTE_WRITE_URL',
  auth: 'TMC_PROMETHEUS_REMOTE_WRITE_AUTH', // none | bearer | basic | sigv4 (default: sigv4 for Amazon Managed Prometheus URLs, else none)
  token: 'TMC_PROMETHEUS_REMOTE_WRITE_TOKEN',
  username: 'TMC_PROMETHEUS_REMOTE_WRITE_USERNAME',
  password: 'TMC_PROMETHEUS_REMOTE_WRITE_PASSWORD',
  region: 'TMC_PROMETHEUS_REMOTE_WRITE_REGION',
} as const;

const AuthTypeSchema = z.enum(['none', 'bearer', 'basic', 'sigv4']);

/**
 * The remote-write target from the environment, or undefined when no URL is set (remote-write is optional). Invalid
 * settings throw with the variable's name, parsed by RemoteWriteTargetSchema like any other outside input.
 */
export function remoteWriteTargetFromEnv(env: Record<string, string | undefined>): RemoteWriteTarget | undefined {
  const url = env[REMOTE_WRITE_ENV.url]?.trim();
  if (!url) return undefined;
  const isAmp = /\.amazonaws\.com\/workspaces\//.test(url);
  const type = AuthTypeSchema.safeParse(env[REMOTE_WRITE_ENV.auth]?.trim() || (isAmp ? 'sigv4' : 'none'));
  if (!type.success)
    throw new Error(`Environment variable ${REMOTE_WRITE_ENV.auth} must be one of none, bearer, basic, sigv4`);
  const auth =
    type.data === 'bearer'
      ? { type: 'bearer', token: env[REMOTE_WRITE_ENV.token] }
      : type.data === 'basic'
        ? { type: 'basic', username: env[REMOTE_WRITE_ENV.username], password: env[REMOTE_WRITE_ENV.password] }
        : type.data === 'sigv4'
          ? {
              type: 'sigv4',
              region: env[REMOTE_WRITE_ENV.region] ?? env.AWS_REGION ?? /aps-workspaces\.([a-z0-9-]+)\./.exec(url)?.[1],
            }
          : { type: 'none' };
  const parsed = RemoteWriteTargetSchema.safeParse({ url, auth });
  if (!parsed.success) {
    throw new Error(
      `Prometheus remote-write settings are invalid (${REMOTE_WRITE_ENV.url} and friends): ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
