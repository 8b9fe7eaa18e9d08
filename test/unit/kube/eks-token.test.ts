import { EKS_TOKEN_PREFIX, EKS_TOKEN_REFRESH_MS, EksTokenSource, eksToken } from '../../../lib/adapters/kube/eks-token';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token',
};
const at = new Date('2026-01-02T03:04:05Z');

function decode(token: string): URL {
  expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

describe('EKS token', () => {
  it('is a presigned STS GetCallerIdentity URL with x-k8s-aws-id signed in', async () => {
    const url = decode(
      await eksToken({ clusterName: 'prod', region: 'eu-west-1', credentials, now: () => at.getTime() }),
    );
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20260102/eu-west-1/sts/aws4_request');
    expect(q.get('X-Amz-Date')).toBe('20260102T030405Z');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['host', 'x-k8s-aws-id']);
    expect(q.get('X-Amz-Security-Token')).toBe('session-token');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs the cluster name: another cluster gets another signature, the same inputs the same token', async () => {
    const sig = async (clusterName: string) =>
      decode(
        await eksToken({ clusterName, region: 'eu-west-1', credentials, now: () => at.getTime() }),
      ).searchParams.get('X-Amz-Signature');
    expect(await sig('prod')).not.toBe(await sig('staging'));
    expect(await sig('prod')).toBe(await sig('prod'));
  });

  it('is reused until 14 minutes after signing, then signed again', async () => {
    let now = at.getTime();
    let resolved = 0;
    const source = new EksTokenSource({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: async () => (resolved++, credentials),
      now: () => now,
    });
    const first = await source.token();
    now += EKS_TOKEN_REFRESH_MS - 1;
    expect(await source.token()).toBe(first);
    expect(resolved).toBe(1);
    now += 1;
    const second = await source.token();
    expect(second).not.toBe(first);
    expect(resolved).toBe(2);
    expect(decode(second).searchParams.get('X-Amz-Date')).toBe('20260102T031805Z');
  });

  it('does not keep a failed signing', async () => {
    let fail = true;
    const source = new EksTokenSource({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: async () => {
        if (fail) throw new Error('no credentials');
        return credentials;
      },
      now: () => at.getTime(),
    });
    await expect(source.token()).rejects.toThrow('no credentials');
    fail = false;
    expect(decode(await source.token()).host).toBe('sts.eu-west-1.amazonaws.com');
  });
});
