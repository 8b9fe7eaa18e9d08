import { ApiException, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { type SimServer, startSimServer } from '../../../lib/sim';
import * as build from '../../support/builders';
import { waitFor } from '../../support/wait';

/** Short enough for a test, long enough that the watch is open before the Event goes. */
const EVENT_TTL_MS = 1500;

function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  // client-node refuses plain http unless skipTLSVerify is set; there is no TLS on the simulator's loopback http.
  kc.loadFromOptions({
    clusters: [{ name: 'sim', server: url, skipTLSVerify: true }],
    users: [{ name: 'sim', token: 'event-ttl' }],
    contexts: [{ name: 'sim', cluster: 'sim', user: 'sim' }],
    currentContext: 'sim',
  });
  return kc;
}

/**
 * kube-apiserver (and kcp) delete an Event `--event-ttl` after its last write, and watchers see it go; the simulator
 * does the same on its own timer, so a stack left running does not keep every Event it was ever sent.
 */
describe.each(['kcp', 'cluster'] as const)('simulator (%s): Events expire after eventTtlMs', (mode) => {
  let server: SimServer;
  let kc: KubeConfig;

  beforeAll(async () => {
    server = await startSimServer({ name: `event-ttl-${mode}`, mode, eventTtlMs: EVENT_TTL_MS });
    kc = kubeConfigFor(server.serverUrl());
  });
  afterAll(() => server?.stop());

  it('a watcher sees the Event ADDED, then DELETED when its TTL is over, in core/v1 and events.k8s.io/v1', async () => {
    const seen: string[] = [];
    const watch = (path: string, label: string): Promise<AbortController> =>
      new Watch(kc).watch(
        path,
        {},
        (type, object: { metadata?: { name?: string } }) => seen.push(`${label} ${type} ${object.metadata?.name}`),
        () => undefined,
      );
    const watches = [
      await watch('/api/v1/namespaces/default/events', 'core'),
      await watch('/apis/events.k8s.io/v1/namespaces/default/events', 'v1'),
    ];
    try {
      const core = kc.makeApiClient(CoreV1Api);
      const created = await fetch(`${server.serverUrl()}/api/v1/namespaces/default/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer event-ttl' },
        body: JSON.stringify(build.event('web.ttl')),
      });
      expect(created.status).toBe(201);
      expect(server.retained().events).toBe(1);
      await waitFor('both watches to see the Event deleted', async () => seen.length >= 4, { timeoutMs: 30_000 });
      expect(seen.sort()).toEqual([
        'core ADDED web.ttl',
        'core DELETED web.ttl',
        'v1 ADDED web.ttl',
        'v1 DELETED web.ttl',
      ]);
      expect(server.retained().events).toBe(0);
      const gone = await core.readNamespacedEvent({ name: 'web.ttl', namespace: 'default' }).then(
        () => 200,
        (err: unknown) => (err instanceof ApiException ? err.code : -1),
      );
      expect(gone).toBe(404);
    } finally {
      for (const w of watches) w.abort();
    }
  });
});
