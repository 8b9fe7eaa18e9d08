import { cloneJson } from '../../../lib/kube/clone-json';

describe('cloneJson', () => {
  const parsed: unknown = JSON.parse(
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' }, annotations: {}, finalizers: ['a', 'b'] },
      spec: { replicas: 2, paused: false, template: { spec: { containers: [{ name: 'c', args: [], env: null }] } } },
      data: { '10': 'ten', '2': 'two', b: 'b', a: 'a' },
    }),
  );

  it.each([
    ['a Kubernetes object', parsed],
    ['an array of mixed values', [1, 'x', null, true, [], {}, [[{ a: [1] }]]]],
    ['a string', 'text'],
    ['a number', 4.5],
    ['null', null],
    ['an object with undefined members', { a: undefined, b: { c: undefined } }],
  ])('copies %s as structuredClone does', (_what, value) => {
    const copy = cloneJson(value);
    expect(copy).toStrictEqual(structuredClone(value));
    // Keys in the same order (integer-like keys first, as in every object).
    expect(JSON.stringify(copy)).toBe(JSON.stringify(structuredClone(value)));
  });

  it('shares nothing with the original: changing the copy leaves it as it was', () => {
    const original = { metadata: { labels: { app: 'web' } }, items: [{ a: 1 }] };
    const copy = cloneJson(original);
    copy.metadata.labels.app = 'changed';
    copy.items[0]!.a = 2;
    copy.items.push({ a: 3 });
    expect(original).toEqual({ metadata: { labels: { app: 'web' } }, items: [{ a: 1 }] });
  });

  it('keeps a parsed "__proto__" key as an own member, never as the prototype', () => {
    const value: unknown = JSON.parse('{"data":{"__proto__":{"polluted":true},"x":1}}');
    const copy = cloneJson(value) as { data: Record<string, unknown> };
    expect(Object.getPrototypeOf(copy.data)).toBe(Object.prototype);
    expect(Object.keys(copy.data)).toEqual(['__proto__', 'x']);
    expect((copy.data as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(copy)).toBe('{"data":{"__proto__":{"polluted":true},"x":1}}');
  });
});
