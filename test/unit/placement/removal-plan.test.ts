import type { ObjectRef } from '../../../lib/api/object-ref';
import type { StoredDecision } from '../../../lib/ports/decision-store';
import { removalsFollowingNamespaces } from '../../../lib/placement/removal-plan';
import * as build from '../../support/builders';

const WS = 'root:plan';
const NAMESPACE: ObjectRef = build.ref(WS, build.TYPES.namespaces, 'shop');

const decided = (ref: ObjectRef, clusters: string[], reason: StoredDecision['reason'] = 'Scheduled'): StoredDecision =>
  build.storedDecision(ref, clusters, { reason });

const shop = (name: string): ObjectRef => build.ref(WS, build.TYPES.deployments, name, 'shop');
const other = (name: string): ObjectRef => build.ref(WS, build.TYPES.configmaps, name, 'other');

describe('removalsFollowingNamespaces: the removals a fan-out counts before sending', () => {
  it.each<[string, StoredDecision[], Record<string, string[]>, string[]]>([
    [
      'every object on a cluster its namespace leaves',
      [decided(shop('a'), ['east', 'west']), decided(shop('b'), ['east'])],
      { shop: ['east'] },
      ['a@east', 'b@east'],
    ],
    ['objects of a namespace that stays are not counted', [decided(other('c'), ['east'])], { shop: ['east'] }, []],
    ['a cluster the object is not on is not counted', [decided(shop('a'), ['west'])], { shop: ['east'] }, []],
    ['the namespace itself deletes nothing downstream', [decided(NAMESPACE, ['east'])], { shop: ['east'] }, []],
    [
      'a deleted object leaves by its delete, not by un-placement',
      [decided(shop('gone'), ['east'], 'Deleted')],
      { shop: ['east'] },
      [],
    ],
    ['nothing leaves: an empty plan', [decided(shop('a'), ['east'])], {}, []],
  ])('%s', (_case, decisions, left, expected) => {
    const plan = removalsFollowingNamespaces(decisions, new Map(Object.entries(left)));
    expect(plan.map((p) => `${p.ref.name}@${p.cluster}`).sort()).toEqual(expected);
  });
});
