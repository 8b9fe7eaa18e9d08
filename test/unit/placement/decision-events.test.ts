import { decisionEvent } from '../../../lib/placement/decision-events';
import { diffDecisions } from '../../../lib/placement/diff';
import type { Decision } from '../../../lib/placement/types';

const decision = (names: string[], extra: Partial<Decision> = {}): Decision => ({
  clusters: names.map((name) => ({ name })),
  scheduled: true,
  reason: 'Scheduled',
  message: `Placed on ${names.join(', ')}`,
  explanation: [],
  weights: {},
  ...extra,
});

describe('the Event a decision is worth', () => {
  it.each<[string, string[] | undefined, Decision, string[], object | undefined]>([
    [
      'first placement',
      undefined,
      decision(['east', 'west']),
      [],
      { type: 'Normal', reason: 'Placed', message: 'Placed on east, west' },
    ],
    ['nothing moved', ['east'], decision(['east']), [], undefined],
    [
      'moved by a policy change',
      ['east'],
      decision(['west']),
      [],
      { type: 'Normal', reason: 'Placed', message: 'Placed on west; removed from east' },
    ],
    [
      'moved by failover',
      ['east', 'west'],
      decision(['north', 'west']),
      ['east'],
      {
        type: 'Normal',
        reason: 'FailedOver',
        message: 'Moved off east (unhealthy past evictAfter or tainted NoExecute) to north; runs on north, west',
      },
    ],
    [
      'placed nowhere',
      ['east'],
      decision([], { scheduled: false, reason: 'Unschedulable', message: '0/2 clusters match: region' }),
      [],
      { type: 'Warning', reason: 'FailedPlacement', message: '0/2 clusters match: region' },
    ],
    [
      'a removal held by the gate',
      ['east'],
      decision(['east'], { scheduled: false, reason: 'DeletionHeld', message: 'Kept on east: too many leave at once' }),
      [],
      { type: 'Warning', reason: 'DeletionHeld', message: 'Kept on east: too many leave at once' },
    ],
  ])('%s', (_name, before, next, evicted, expected) => {
    const diff = diffDecisions(
      before?.map((name) => ({ name })),
      next.clusters,
    );
    expect(decisionEvent(next, diff, new Set(evicted))).toEqual(expected);
  });
});
