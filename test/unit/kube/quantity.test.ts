import { cpuMillis, memoryBytes, parseQuantity } from '../../../lib/kube/quantity';
import { podRequests } from '../../../lib/sim/controllers/pod-requests';

describe('quantities', () => {
  it.each([
    ['100m', 0.1],
    ['1', 1],
    ['1.5', 1.5],
    ['2k', 2000],
    ['1M', 1e6],
    ['1G', 1e9],
    ['1Ki', 1024],
    ['128Mi', 128 * 2 ** 20],
    ['2Gi', 2 * 2 ** 30],
    ['1e3', 1000],
    ['1E', 1e18],
    ['500u', 0.0005],
    ['.5', 0.5],
    [3, 3],
  ])('%s is %d', (quantity, value) => {
    expect(parseQuantity(quantity)).toBeCloseTo(value, 9);
  });

  it.each(['', 'abc', '1.2.3', '10 Mi', '1mi', 'Gi'])('%j is not a quantity', (quantity) => {
    expect(parseQuantity(quantity)).toBeUndefined();
  });

  it.each([
    ['250m', 250],
    ['0.1', 100],
    ['1', 1000],
    ['1.0005', 1001],
  ])('cpu %s is %i millicores', (quantity, millis) => expect(cpuMillis(quantity)).toBe(millis));

  it.each([
    ['64Mi', 67108864],
    ['1G', 1e9],
    ['1.5Ki', 1536],
  ])('memory %s is %i bytes', (quantity, bytes) => expect(memoryBytes(quantity)).toBe(bytes));

  it.each([
    ['no resources', { containers: [{ name: 'a' }] }, { cpuMillis: 0, memoryBytes: 0 }],
    [
      'requests summed',
      {
        containers: [
          { resources: { requests: { cpu: '100m', memory: '1Mi' } } },
          { resources: { requests: { cpu: '200m' } } },
        ],
      },
      { cpuMillis: 300, memoryBytes: 1048576 },
    ],
    [
      'limits stand in for missing requests',
      { containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }] },
      { cpuMillis: 1000, memoryBytes: 2 ** 30 },
    ],
    [
      'a larger init container wins',
      {
        initContainers: [{ resources: { requests: { cpu: '2' } } }],
        containers: [{ resources: { requests: { cpu: '500m' } } }],
      },
      { cpuMillis: 2000, memoryBytes: 0 },
    ],
  ])('pod requests: %s', (_case, spec, expected) => expect(podRequests(spec)).toEqual(expected));
});
