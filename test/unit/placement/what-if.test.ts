import { parseObjectArg } from '../../../lib/cli/commands/placement';
import { decide } from '../../../lib/placement';
import { formatExplanation } from '../../../lib/placement/explain-format';
import { whatIf } from '../../../lib/placement/what-if';
import type { StoredDecision } from '../../../lib/ports/decision-store';
import { cluster, deployment, NOW, placement } from './fixtures';

function stored(name: string, clusters: string[]): StoredDecision {
  return {
    ref: {
      workspace: 'root:w',
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      kind: 'Deployment',
      namespace: 'default',
      name,
    },
    decisionVersion: 3,
    generation: 1,
    contentHash: 'h',
    clusters: clusters.map((c) => ({ name: c, replicas: 1 })),
    scheduled: true,
    reason: 'Scheduled',
    message: 'ok',
    explanation: decide({
      object: deployment(name),
      policies: [placement('p', { clusterSelector: { matchLabels: { ok: 'y' } } })],
      locations: [],
      clusters: [cluster('east', { labels: { ok: 'y' } }), cluster('west')],
      options: { now: NOW },
    }).explanation,
    explanationOmitted: 0,
    weights: { affinity: 1 },
    diff: { added: clusters, removed: [], changed: [], unchanged: [] },
    decidedAt: new Date(NOW).toISOString(),
  };
}

describe('what-if', () => {
  const clusters = [cluster('east', { labels: { name: 'east' } }), cluster('west', { labels: { name: 'west' } })];
  const policies = [placement('p', { numberOfClusters: 1 })];
  it.each<[string, Parameters<typeof whatIf>[4], string[]]>([
    ['nothing changes', {}, []],
    ['cordon keeps placed work', { cordon: ['east'] }, []],
    ['down moves it', { down: ['east'] }, ['Deployment default/web: east -> west']],
    [
      'a new Placement that forbids east moves it',
      {
        placements: [
          placement('p', { numberOfClusters: 1, antiAffinity: { required: [{ matchLabels: { name: 'east' } }] } }),
        ],
      },
      ['Deployment default/web: east -> west'],
    ],
  ])('%s', (_label, hypothesis, expected) => {
    const moves = whatIf(
      [{ decision: stored('web', ['east']), object: deployment('web') }],
      policies,
      [],
      clusters,
      hypothesis,
      NOW,
    );
    expect(moves.map((m) => `${m.object}: ${m.before.join(',')} -> ${m.after.join(',')}`)).toEqual(expected);
  });
});

describe('explain output', () => {
  it('names every cluster with its filter or scores', () => {
    const text = formatExplanation(stored('web', ['east']));
    expect(text).toContain('Scheduled:  True (Scheduled)');
    expect(text).toMatch(/west\s+no\s+-\s+clusterSelector\s+labels do not match clusterSelector/);
    expect(text).toMatch(/east\s+yes/);
  });
});

describe('parseObjectArg', () => {
  it.each([
    ['deployment/web', { group: 'apps', resource: 'deployments', kind: 'Deployment' }],
    ['deployments.apps/web', { group: 'apps', resource: 'deployments', kind: 'Deployment' }],
    ['cm/web', { group: '', resource: 'configmaps', kind: 'ConfigMap' }],
    ['widgets.example.com/web', { group: 'example.com', resource: 'widgets' }],
  ])('%s', (arg, expected) => {
    expect(parseObjectArg(arg, 'default', 'root:w')).toMatchObject({
      ...expected,
      name: 'web',
      namespace: 'default',
      workspace: 'root:w',
    });
  });
  it('namespace/web names the cluster-scoped Namespace, whatever -n says', () => {
    expect(parseObjectArg('namespace/web', 'default', 'root:w')).toEqual({
      workspace: 'root:w',
      group: '',
      version: 'v1',
      resource: 'namespaces',
      kind: 'Namespace',
      namespace: undefined,
      name: 'web',
    });
  });
  it.each([
    ['clusterrole/web', { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', kind: 'ClusterRole' }],
    [
      'clusterrolebinding/web',
      { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding' },
    ],
    [
      'crd/web',
      { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition' },
    ],
    ['storageclass/web', { group: 'storage.k8s.io', resource: 'storageclasses', kind: 'StorageClass' }],
    ['pv/web', { group: '', resource: 'persistentvolumes', kind: 'PersistentVolume' }],
  ])('%s names a cluster-scoped object, whatever -n says', (arg, expected) => {
    expect(parseObjectArg(arg, 'default', 'root:w')).toMatchObject({ ...expected, name: 'web', namespace: undefined });
  });
});
