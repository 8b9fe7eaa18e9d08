import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { nativeFetch, type RemoteWriteFetch, type RemoteWriteTarget } from '../../metrics/remote-write';

/**
 * Signs each remote-write request with SigV4 for Amazon Managed Prometheus, with the default credential chain (the
 * Lambda role in the cloud).
 */
export function sigv4Fetch(
  target: Extract<RemoteWriteTarget['auth'], { type: 'sigv4' }>,
  base: RemoteWriteFetch = nativeFetch(),
): RemoteWriteFetch {
  const signer = new SignatureV4({
    credentials: defaultProvider(),
    region: target.region,
    service: target.service,
    sha256: Sha256,
  });
  return async (url, init) => {
    const u = new URL(url);
    const signed = await signer.sign({
      method: init?.method ?? 'POST',
      protocol: u.protocol,
      hostname: u.hostname,
      port: u.port ? Number(u.port) : undefined,
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      headers: { ...(init?.headers ?? {}), host: u.host },
      body: init ? new Uint8Array(init.body) : undefined,
    });
    return base(url, {
      method: init?.method ?? 'POST',
      headers: signed.headers,
      body: init?.body ?? new ArrayBuffer(0),
    });
  };
}
