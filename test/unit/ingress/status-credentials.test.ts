import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { StatusMessage } from '../../../lib/api/messages';
import {
  issueStatusCredential,
  StatusCredentialAuthenticator,
  statusCredentialDigest,
} from '../../../lib/auth/status-credentials';
import { fromApiGatewayEvent } from '../../../lib/ingress/api-gateway';
import { createIngress } from '../../../lib/ingress/ingress';
import { makeDeps, MemoryStatusCredentialStore, RecordingQueue, request, sample } from './fakes';

function setup() {
  const store = new MemoryStatusCredentialStore();
  const status = new RecordingQueue<StatusMessage>('status');
  // No cache here: each call reads the store, so rotation and revocation show at once.
  const ingress = createIngress(
    makeDeps({ statusQueue: status, statusCredentials: new StatusCredentialAuthenticator(store, 0) }),
  );
  return { store, status, ingress };
}

/** A status call as a managed cluster makes it: no Authorization header, the credential in the path. */
const managedCall = (cluster: string, credential: string) =>
  request('status', sample('status-update-deployment.json'), { cluster, credential, headers: {} });

describe('per-cluster status credentials', () => {
  it('stores only a digest of the credential it issues', async () => {
    const store = new MemoryStatusCredentialStore();
    const credential = await issueStatusCredential(store, 'east');
    expect(credential).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.items.get('east')).toEqual([statusCredentialDigest(credential)]);
    expect(JSON.stringify([...store.items])).not.toContain(credential);
  });

  it('accepts a managed cluster status call with its own credential and no Authorization header', async () => {
    const { store, status, ingress } = setup();
    const credential = await issueStatusCredential(store, 'east');
    const res = await ingress.handle(managedCall('east', credential));
    expect(res.statusCode).toBe(200);
    expect(status.sent).toHaveLength(1);
    expect(store.reads).toBe(1);
  });

  it.each([
    ['a wrong credential', 'east', 'not-the-credential'],
    ["another cluster's credential", 'west', undefined],
    ['an empty credential', 'east', ''],
    ['a cluster name that is not a SyncTarget name', 'East_1', undefined],
  ])('answers %s by 401 and enqueues nothing', async (_case, cluster, presented) => {
    const { store, status, ingress } = setup();
    const credential = await issueStatusCredential(store, 'east');
    const res = await ingress.handle(managedCall(cluster, presented ?? credential));
    expect(res.statusCode).toBe(401);
    expect(status.sent).toHaveLength(0);
    expect(res.body).not.toContain(credential);
  });

  it('keeps the previous credential during a rotation, and accepts none after a revocation', async () => {
    const { store, status, ingress } = setup();
    const first = await issueStatusCredential(store, 'east');
    const second = await issueStatusCredential(store, 'east');
    expect((await ingress.handle(managedCall('east', first))).statusCode).toBe(200);
    expect((await ingress.handle(managedCall('east', second))).statusCode).toBe(200);
    const third = await issueStatusCredential(store, 'east');
    expect((await ingress.handle(managedCall('east', first))).statusCode).toBe(401);
    await store.revoke('east');
    expect((await ingress.handle(managedCall('east', third))).statusCode).toBe(401);
    expect(status.sent).toHaveLength(2);
  });

  it('reads a cluster digests once per TTL, sees a revocation after it, and does not cache a failed read', async () => {
    const store = new MemoryStatusCredentialStore();
    let now = 0;
    const auth = new StatusCredentialAuthenticator(store, 30_000, () => now);
    const credential = await issueStatusCredential(store, 'east');
    expect(await auth.authenticate('east', credential)).toBe(true);
    expect(await auth.authenticate('east', credential)).toBe(true);
    expect(await auth.authenticate('east', 'wrong')).toBe(false);
    expect(store.reads).toBe(1);
    await store.revoke('east');
    now = 29_999;
    expect(await auth.authenticate('east', credential)).toBe(true);
    now = 30_000;
    expect(await auth.authenticate('east', credential)).toBe(false);
    expect(store.reads).toBe(2);
    const fresh = await issueStatusCredential(store, 'east');
    let fail = true;
    const flaky = new StatusCredentialAuthenticator(
      {
        digests: async (c) => (fail ? Promise.reject(new Error('throttled')) : store.digests(c)),
        add: async () => undefined,
        revoke: async () => undefined,
      },
      30_000,
      () => now,
    );
    await expect(flaky.authenticate('east', fresh)).rejects.toThrow('throttled');
    fail = false;
    expect(await flaky.authenticate('east', fresh)).toBe(true);
  });

  it('refuses a path credential when ingress has no credential store', async () => {
    const status = new RecordingQueue<StatusMessage>('status');
    const ingress = createIngress(makeDeps({ statusQueue: status }));
    expect((await ingress.handle(managedCall('east', 'anything'))).statusCode).toBe(401);
    expect(status.sent).toHaveLength(0);
  });

  it('still accepts the bearer token on the plain status path', async () => {
    const { status, ingress } = setup();
    const res = await ingress.handle(request('status', sample('status-update-deployment.json'), { cluster: 'east' }));
    expect(res.statusCode).toBe(200);
    expect(status.sent).toHaveLength(1);
  });

  it('reads the cluster and the credential from the route and from the raw path', () => {
    const base = { version: '2.0', rawQueryString: '', headers: {}, isBase64Encoded: false, body: '{}' };
    const routed = fromApiGatewayEvent({
      ...base,
      routeKey: 'POST /webhooks/status/{cluster}/{credential}',
      rawPath: '/webhooks/status/east/abc',
      pathParameters: { cluster: 'east', credential: 'abc' },
    } as unknown as APIGatewayProxyEventV2);
    expect(routed).toMatchObject({ route: 'status', cluster: 'east', credential: 'abc' });
    const raw = fromApiGatewayEvent({
      ...base,
      routeKey: '$default',
      rawPath: '/webhooks/status/east/abc',
    } as unknown as APIGatewayProxyEventV2);
    expect(raw).toMatchObject({ route: 'status', cluster: 'east', credential: 'abc' });
    const plain = fromApiGatewayEvent({
      ...base,
      routeKey: '$default',
      rawPath: '/webhooks/status/east',
    } as unknown as APIGatewayProxyEventV2);
    expect(plain?.credential).toBeUndefined();
  });
});
