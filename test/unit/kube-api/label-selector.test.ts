import { ApiError } from '../../../lib/kube-api/api-error';
import {
  compileLabelSelector,
  describeLabelSelector,
  isEmptyLabelSelector,
  type LabelSelector,
  matchesLabelSelector,
  parseLabelSelector,
} from '../../../lib/kube-api/label-selector';

const labels = { app: 'web', tier: 'gold', region: 'east' };

describe('compileLabelSelector', () => {
  it.each<[string, LabelSelector | null | undefined, Record<string, string> | undefined, boolean]>([
    ['absent selects everything', undefined, labels, true],
    ['null selects everything', null, undefined, true],
    ['empty selects everything', {}, {}, true],
    ['empty lists select everything', { matchLabels: {}, matchExpressions: [] }, undefined, true],
    ['matchLabels equal', { matchLabels: { app: 'web' } }, labels, true],
    ['matchLabels differ', { matchLabels: { app: 'api' } }, labels, false],
    ['matchLabels on no labels', { matchLabels: { app: 'web' } }, undefined, false],
    [
      'In selects a listed value',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }] },
      labels,
      true,
    ],
    [
      'In rejects another value',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['silver'] }] },
      labels,
      false,
    ],
    ['In rejects a missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels, false],
    [
      'In with no values selects nothing',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: [] }] },
      labels,
      false,
    ],
    [
      'NotIn rejects a listed value',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] },
      labels,
      false,
    ],
    [
      'NotIn selects another value',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['silver'] }] },
      labels,
      true,
    ],
    [
      'NotIn selects a missing key',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      labels,
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'region', operator: 'Exists' }] }, labels, true],
    ['Exists on a missing key', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist', values: null }] }, labels, true],
    ['DoesNotExist on a present key', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels, false],
    [
      'Exists ignores Object.prototype',
      { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] },
      labels,
      false,
    ],
    [
      'DoesNotExist ignores Object.prototype',
      { matchExpressions: [{ key: 'toString', operator: 'DoesNotExist' }] },
      labels,
      true,
    ],
    [
      'every requirement must hold',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'region', operator: 'In', values: ['west'] }] },
      labels,
      false,
    ],
    [
      'an unknown operator selects nothing',
      { matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] },
      labels,
      false,
    ],
    [
      'an unknown operator selects nothing, even unlabelled',
      { matchExpressions: [{ key: 'app', operator: 'in', values: ['web'] }] },
      undefined,
      false,
    ],
  ])('%s', (_name, selector, input, expected) => {
    expect(compileLabelSelector(selector)(input)).toBe(expected);
    expect(matchesLabelSelector(selector, input)).toBe(expected);
  });
});

describe('parseLabelSelector (the ?labelSelector= string form)', () => {
  it.each<[string, Record<string, string> | undefined, boolean]>([
    ['', labels, true],
    ['app=web', labels, true],
    ['app==web', labels, true],
    ['app = web', labels, true],
    ['app=api', labels, false],
    ['app!=api', labels, true],
    ['app!=web', labels, false],
    ['zone!=a', labels, true],
    ['app=', { app: '' }, true],
    ['app=', labels, false],
    ['tier in (gold,silver)', labels, true],
    ['tier in (silver, bronze)', labels, false],
    ['tier notin (silver)', labels, true],
    ['zone notin (a)', labels, true],
    ['tier notin (gold)', labels, false],
    ['region', labels, true],
    ['zone', labels, false],
    ['!zone', labels, true],
    ['!app', labels, false],
    ['app=web,tier in (gold),!zone', labels, true],
    ['app=web,tier in (gold),zone', labels, false],
    ['topology.kubernetes.io/region=east', { 'topology.kubernetes.io/region': 'east' }, true],
    ['app=web', undefined, false],
  ])('%j', (text, input, expected) => {
    expect(parseLabelSelector(text)(input)).toBe(expected);
  });

  it('selects everything for an absent parameter', () => {
    expect(parseLabelSelector(null)(undefined)).toBe(true);
    expect(parseLabelSelector(undefined)(labels)).toBe(true);
  });

  it.each(['app>1', 'a b', 'tier in gold', '=web'])('rejects %j with a 400 Status', (text) => {
    let thrown: unknown;
    try {
      parseLabelSelector(text);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).code).toBe(400);
    expect((thrown as ApiError).message).toContain(`unable to parse requirement: found '${text.trim()}'`);
  });
});

describe('describeLabelSelector', () => {
  it.each<[LabelSelector | undefined, string]>([
    [undefined, '<all>'],
    [{}, '<all>'],
    [{ matchLabels: { team: 'a' } }, 'team=a'],
    [
      {
        matchLabels: { team: 'a' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['gold', 'silver'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'gpu', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
      'team=a,tier in (gold,silver),env notin (dev),gpu,!legacy',
    ],
  ])('%j → %s', (selector, text) => {
    expect(describeLabelSelector(selector)).toBe(text);
  });

  it('round-trips through the string form', () => {
    const selector: LabelSelector = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'NotIn', values: ['bronze'] },
        { key: 'zone', operator: 'DoesNotExist' },
      ],
    };
    const reparsed = parseLabelSelector(describeLabelSelector(selector));
    const inputs: Array<Record<string, string>> = [
      labels,
      { app: 'web', tier: 'bronze' },
      { app: 'web', zone: 'a' },
      { app: 'api' },
      {},
    ];
    for (const input of inputs) {
      expect(reparsed(input)).toBe(matchesLabelSelector(selector, input));
    }
  });
});

describe('isEmptyLabelSelector', () => {
  it.each<[LabelSelector | null | undefined, boolean]>([
    [undefined, true],
    [null, true],
    [{}, true],
    [{ matchLabels: null, matchExpressions: null }, true],
    [{ matchLabels: { a: 'b' } }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, false],
  ])('%j → %s', (selector, expected) => {
    expect(isEmptyLabelSelector(selector)).toBe(expected);
  });
});
