import { sigv4Fetch } from '../../../lib/adapters/prometheus/sigv4-fetch';
import { RemoteWritePublisher, type RemoteWriteFetch } from '../../../lib/metrics/remote-write';

describe('remote-write with SigV4', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  });
  afterAll(() => {
    process.env = saved;
  });

  it('signs each request for the target region and service before sending it', async () => {
    const sent: Array<{ url: string; headers: Record<string, string> }> = [];
    const base: RemoteWriteFetch = async (url, init) => {
      sent.push({ url, headers: init?.headers ?? {} });
      return { status: 200, statusText: 'OK', text: async () => '' };
    };
    const signed = sigv4Fetch({ type: 'sigv4', region: 'eu-west-1', service: 'aps' }, base);
    const url = 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write';
    await signed(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf' },
      body: new Uint8Array([1, 2, 3]).buffer,
    });
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toBe(url);
    expect(sent[0].headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/aps\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(sent[0].headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('refuses a SigV4 target without a signing fetch, which would push unsigned', () => {
    const target = {
      url: 'https://aps-workspaces.eu-west-1.amazonaws.com/api/v1/remote_write',
      auth: { type: 'sigv4' as const, region: 'eu-west-1', service: 'aps' },
    };
    expect(() => new RemoteWritePublisher(target)).toThrow(/uses SigV4/);
    expect(() => new RemoteWritePublisher(target, { signedFetch: sigv4Fetch(target.auth) })).not.toThrow();
  });
});
