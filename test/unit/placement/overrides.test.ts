import type { Override } from '../../../lib/api/crds';
import { decide } from '../../../lib/placement';
import { overrideToPatch } from '../../../lib/placement/overrides';
import { cluster, configMap, deployment, NOW, placement } from './fixtures';

const minReady: Override['jsonPatch'] = [{ op: 'add', path: '/spec/minReadySeconds', value: 5 }];

describe('override kinds scoping', () => {
  it.each<[string, Override, 'Deployment' | 'ConfigMap', number]>([
    ['unscoped: every kind', { clusters: ['east'], jsonPatch: minReady }, 'ConfigMap', 1],
    ['kinds names the object', { clusters: ['east'], kinds: ['Deployment'], jsonPatch: minReady }, 'Deployment', 1],
    [
      'kinds leaves other kinds alone',
      { clusters: ['east'], kinds: ['Deployment'], jsonPatch: minReady },
      'ConfigMap',
      0,
    ],
    [
      'labels on a kind not named',
      { clusters: ['east'], kinds: ['Deployment', 'StatefulSet'], labels: { a: 'b' } },
      'ConfigMap',
      0,
    ],
    ['labels on a kind named', { clusters: ['east'], kinds: ['ConfigMap'], labels: { a: 'b' } }, 'ConfigMap', 1],
  ])('%s', (_label, override, kind, ops) => {
    const object = kind === 'Deployment' ? deployment('web') : configMap('web');
    expect(overrideToPatch(object, override)).toHaveLength(ops);
  });

  it('the engine patches the Deployment and not the ConfigMap beside it', () => {
    const policy = placement('two-regions', {
      overrides: [{ clusters: ['east'], kinds: ['Deployment'], jsonPatch: minReady }],
    });
    const run = (object: ReturnType<typeof deployment>): unknown =>
      decide({ object, policies: [policy], locations: [], clusters: [cluster('east')], options: { now: NOW } })
        .clusters[0];
    expect(run(deployment('web'))).toMatchObject({ name: 'east', patch: minReady });
    expect(run(configMap('web'))).toEqual({ name: 'east' });
  });
});
