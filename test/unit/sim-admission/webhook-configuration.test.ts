import {
  cachedWebhookLister,
  listWebhooks,
  MUTATING_WEBHOOKS,
  VALIDATING_WEBHOOKS,
} from '../../../lib/sim/admission/webhook-configuration';
import type { KubeObject } from '../../../lib/kube/object';
import { FakeClusterStore } from '../sim-controllers/fake-cluster-store';

/**
 * The admission dispatcher reads webhooks through cachedWebhookLister: a configuration is parsed once per version, and
 * every change to one (update, delete, re-create) is seen by the next admission, as listWebhooks would see it.
 */

function configuration(name: string, webhooks: unknown[]): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks,
  };
}

const hook = (name: string, url: string): Record<string, unknown> => ({
  name,
  clientConfig: { url },
  sideEffects: 'None',
  admissionReviewVersions: ['v1'],
});

describe('cachedWebhookLister', () => {
  it('parses a configuration once per version and sees every change', () => {
    const store = new FakeClusterStore();
    const warnings: string[] = [];
    const list = cachedWebhookLister((message) => warnings.push(message));
    const names = (): string[] => list(store, 'mutating').map((w) => `${w.configurationName}/${w.name} ${w.url ?? ''}`);
    const agrees = (): void => expect(list(store, 'mutating')).toEqual(listWebhooks(store, 'mutating'));

    expect(names()).toEqual([]);
    store.create(MUTATING_WEBHOOKS, configuration('b', [hook('one', 'https://a/one'), { name: 'broken' }]));
    expect(names()).toEqual(['b/one https://a/one']);
    const first = list(store, 'mutating');
    // Nothing changed: the same list, not parsed again (the broken webhook is reported once).
    expect(list(store, 'mutating')).toBe(first);
    expect(warnings).toHaveLength(1);
    agrees();

    store.create(MUTATING_WEBHOOKS, configuration('a', [hook('zero', 'https://a/zero')]));
    expect(names()).toEqual(['a/zero https://a/zero', 'b/one https://a/one']);
    store.update(MUTATING_WEBHOOKS, {
      ...configuration('b', [hook('one', 'https://a/changed')]),
      metadata: { name: 'b' },
    });
    expect(names()).toEqual(['a/zero https://a/zero', 'b/one https://a/changed']);
    agrees();
    store.delete(MUTATING_WEBHOOKS, undefined, 'a');
    expect(names()).toEqual(['b/one https://a/changed']);
    store.delete(MUTATING_WEBHOOKS, undefined, 'b');
    store.create(MUTATING_WEBHOOKS, configuration('b', [hook('two', 'https://a/two')]));
    expect(names()).toEqual(['b/two https://a/two']);
    agrees();
    // Each kind is cached apart.
    expect(list(store, 'validating')).toEqual([]);
    store.create(VALIDATING_WEBHOOKS, {
      ...configuration('v', [hook('check', 'https://a/check')]),
      kind: 'ValidatingWebhookConfiguration',
    });
    expect(list(store, 'validating').map((w) => w.name)).toEqual(['check']);
    expect(names()).toEqual(['b/two https://a/two']);
  });

  it('does not cache configurations without a resourceVersion', () => {
    const objects: KubeObject[] = [configuration('m', [hook('one', 'https://a/one')])];
    const store = new FakeClusterStore();
    store.list = () => objects.map((o) => structuredClone(o));
    const list = cachedWebhookLister();
    expect(list(store, 'mutating').map((w) => w.url)).toEqual(['https://a/one']);
    objects[0] = configuration('m', [hook('one', 'https://a/moved')]);
    expect(list(store, 'mutating').map((w) => w.url)).toEqual(['https://a/moved']);
  });
});
