import { canonicalJson } from '../../../lib/kube/canonical-json';
import { stableHash } from '../../../lib/kube/canonical-hash';
import { fnv1a } from '../../../lib/placement/hash';

describe('canonicalJson', () => {
  it.each<[string, unknown, string]>([
    ['sorts keys at every depth', { b: 1, a: { d: [1, 2], c: 'x' } }, '{"a":{"c":"x","d":[1,2]},"b":1}'],
    ['keeps array order', [3, 1, 2], '[3,1,2]'],
    ['drops undefined members', { a: undefined, b: null }, '{"b":null}'],
    ['writes undefined array items as null', [undefined, 1], '[null,1]'],
    ['sorts integer-like keys as strings', { '9': 'a', '10': 'b', x: 'c' }, '{"10":"b","9":"a","x":"c"}'],
    ['scalars as JSON', 'text', '"text"'],
    ['top-level undefined as null', undefined, 'null'],
    ['an object of undefined members as {}', { a: undefined }, '{}'],
    ['empty containers', { 'a"b': [{}, [[]]], e: [] }, '{"a\\"b":[{},[[]]],"e":[]}'],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  // Computed before canonicalJson was rewritten for speed: hashes stored in DynamoDB must stay what they were, or every
  // object would be applied again on its next resync.
  it('hashes a Deployment as it always has (escapes, unicode, empty values)', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'kcp-x',
        labels: { 'state.workload.kcp.io/k': 'Sync', app: 'web' },
        annotations: { 'a"b\\c': 'ü\n\u2028', skipped: undefined },
      },
      spec: {
        replicas: 0,
        paused: false,
        template: {
          spec: { containers: [{ name: 'web', args: ['--x', '', null, undefined], ports: [] }], tolerations: [{}] },
        },
      },
    };
    expect(stableHash(deployment)).toBe('sha256:b19fe3749fc924816c5977cde301aaddf93d9f6d4c27398618e820474f0bcfb8');
  });

  it('equal content in any key order serialises and hashes alike', () => {
    const a = { metadata: { name: 'web', labels: { app: 'web', tier: 'gold' } }, spec: { replicas: 2 } };
    const b = { spec: { replicas: 2 }, metadata: { labels: { tier: 'gold', app: 'web' }, name: 'web' } };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(stableHash(a)).toBe(stableHash(b));
    expect(stableHash(a)).not.toBe(stableHash({ ...a, spec: { replicas: 3 } }));
  });
});

describe('fnv1a (32 bit)', () => {
  // Reference vectors of FNV-1a 32 (http://www.isthe.com/chongo/tech/comp/fnv/).
  it.each<[string, number]>([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('%j → %d', (text, expected) => {
    expect(fnv1a(text)).toBe(expected);
  });
});
