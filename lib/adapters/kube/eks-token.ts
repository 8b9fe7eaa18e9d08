import { systemClock, type Clock } from '../../ports/clock';
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * The bearer token EKS's authenticator accepts: `k8s-aws-v1.` + base64url (unpadded) of a presigned STS
 * GetCallerIdentity URL whose signed headers include `x-k8s-aws-id: <cluster name>`. EKS calls that URL, so the token
 * proves the caller's IAM identity for that cluster only. Presigning needs no IAM permission; the role must be mapped
 * by an EKS access entry (docs/deploy.md).
 */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** A token is replaced after this long, so one is never sent in its last minute. */
export const EKS_TOKEN_REFRESH_MS = 14 * 60_000;

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  /** The function's role credentials by default (the Node credential chain). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  now?: Clock;
}

/** One EKS token, signed now. */
export async function eksToken(options: EksTokenOptions): Promise<string> {
  const signer = new SignatureV4({
    credentials: options.credentials ?? defaultProvider(),
    region: options.region,
    service: 'sts',
    sha256: Sha256,
  });
  const hostname = `sts.${options.region}.amazonaws.com`;
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': options.clusterName },
    },
    { expiresIn: 60, signingDate: new Date((options.now ?? systemClock)()) },
  );
  const url = new URL(`https://${hostname}/`);
  for (const [key, value] of Object.entries(presigned.query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') url.searchParams.append(key, v);
  }
  return `${EKS_TOKEN_PREFIX}${Buffer.from(url.toString(), 'utf8').toString('base64url')}`;
}

/**
 * A cached EKS token per cluster, replaced EKS_TOKEN_REFRESH_MS after it was signed (before the 15-minute limit); one
 * signing at a time, and a failed signing is not cached.
 */
export class EksTokenSource {
  private current: { at: number; token: Promise<string> } | undefined;

  private readonly options: EksTokenOptions;

  constructor(options: EksTokenOptions) {
    // One credential provider per source: it caches the role's credentials and refreshes them before they expire.
    this.options = { ...options, credentials: options.credentials ?? defaultProvider() };
  }

  token(): Promise<string> {
    const now = (this.options.now ?? systemClock)();
    if (!this.current || now - this.current.at >= EKS_TOKEN_REFRESH_MS) {
      const token = eksToken(this.options);
      const entry = { at: now, token };
      this.current = entry;
      token.catch(() => {
        if (this.current === entry) this.current = undefined;
      });
    }
    return this.current.token;
  }
}
