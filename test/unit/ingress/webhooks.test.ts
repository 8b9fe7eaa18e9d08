import type { KubeClient, KubeObject, ResourceName } from '../../../lib/ports/kube-client';
import { installWebhooks, uninstallWebhooks, webhookCredentialsFor } from '../../../lib/webhooks';

/** A KubeClient keeping applied objects in memory: enough to check what install writes and that it is idempotent. */
function memoryClient(target: string): KubeClient & { objects: Map<string, KubeObject> } {
  const objects = new Map<string, KubeObject>();
  const key = (resource: string, name: string): string => `${resource}/${name}`;
  return {
    target,
    objects,
    get: async (n: ResourceName) => objects.get(key(n.resource, n.name)),
    list: async () => [...objects.values()],
    apply: async (type, object) => {
      objects.set(key(type.resource, object.metadata.name ?? ''), object);
      return object;
    },
    mergePatch: async () => Promise.reject(new Error('unused')),
    patchStatus: async () => Promise.reject(new Error('unused')),
    delete: async (n: ResourceName) => (objects.delete(key(n.resource, n.name)) ? 'deleted' : 'absent'),
    resources: async () => [],
    ready: async () => ({ ok: true, latencyMs: 0 }),
  };
}

describe('installWebhooks', () => {
  const kcp = memoryClient('kcp:root:org:ws');
  const east = memoryClient('east');
  const options = {
    url: 'https://api.example.com/',
    token: 't0k',
    workspace: 'root:org:ws',
    kcpKubeconfig: '',
    clients: { kcp, clusters: { east } },
  };

  it('writes the three configurations with their policies and URLs, idempotently', async () => {
    const first = await installWebhooks(options);
    const snapshot = JSON.stringify([...kcp.objects.entries(), ...east.objects.entries()]);
    await installWebhooks(options);
    expect(JSON.stringify([...kcp.objects.entries(), ...east.objects.entries()])).toBe(snapshot);
    expect(first.webhooks.map((w) => `${w.target} ${w.kind} ${w.name}`)).toEqual([
      'kcp:root:org:ws MutatingWebhookConfiguration tmc-workloads',
      'kcp:root:org:ws ValidatingWebhookConfiguration tmc-apis',
      'east ValidatingWebhookConfiguration tmc-status',
    ]);
    const hook = (c: typeof kcp, name: string): Record<string, unknown> =>
      (c.objects.get(name) as unknown as { webhooks: Array<Record<string, unknown>> }).webhooks[0];
    expect(hook(kcp, 'mutatingwebhookconfigurations/tmc-workloads')).toMatchObject({
      failurePolicy: 'Ignore',
      timeoutSeconds: 5,
      sideEffects: 'NoneOnDryRun',
      clientConfig: { url: 'https://api.example.com/webhooks/admission/root%3Aorg%3Aws' },
      rules: [
        { operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['*', '*/scale'], scope: 'Namespaced' },
        { operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['*'], scope: 'Cluster' },
      ],
      // tmc's own updates and every Event (tmc records Events in kcp) are not sent to tmc.
      matchConditions: [{ name: 'not-an-update-by-tmc' }, { name: 'not-an-event' }],
    });
    expect(hook(kcp, 'validatingwebhookconfigurations/tmc-apis')).toMatchObject({ failurePolicy: 'Fail' });
    expect(hook(east, 'validatingwebhookconfigurations/tmc-status')).toMatchObject({
      failurePolicy: 'Ignore',
      clientConfig: { url: 'https://api.example.com/webhooks/status/east' },
      objectSelector: { matchLabels: { 'tmc.kcp.io/managed-by': 'tmc' } },
      rules: [{ operations: ['UPDATE'], resources: ['*/status'] }],
    });
    expect(snapshot).not.toContain('t0k');
    expect(first.credentialsFor?.('https://api.example.com/webhooks/status/east')).toEqual({ token: 't0k' });
    expect(first.admissionKubeconfig).toContain('api.example.com');
  });

  it('uninstall removes them, and a second uninstall finds them absent', async () => {
    await installWebhooks(options);
    const first = await uninstallWebhooks(options);
    expect(first.webhooks.map((w) => w.result)).toEqual(['deleted', 'deleted', 'deleted']);
    const second = await uninstallWebhooks(options);
    expect(second.webhooks.map((w) => w.result)).toEqual(['absent', 'absent', 'absent']);
  });
});

describe('webhookCredentialsFor', () => {
  const credentialsFor = webhookCredentialsFor('http://127.0.0.1:8080', 'tok');
  it.each([
    ['http://127.0.0.1:8080/webhooks/admission/root', { token: 'tok' }],
    ['http://127.0.0.1:8080', { token: 'tok' }],
    ['http://127.0.0.1:80800/webhooks', undefined],
    ['https://evil.example.com/webhooks', undefined],
  ])('%s', (url, expected) => expect(credentialsFor(url)).toEqual(expected));
});
