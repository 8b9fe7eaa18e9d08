import { clusterKubeconfigPath } from '../../../lib/cli/commands/syncer-run';
import { syncedBuiltinResources, syncerClusterRules, syncerManifest } from '../../../lib/syncer/manifest';

const names = (options: Parameters<typeof syncedBuiltinResources>[0] = {}): string[] =>
  syncedBuiltinResources(options).map((r) => (r.group ? `${r.resource}.${r.group}` : r.resource));

describe('the syncer manifest', () => {
  it.each([
    ['workloads and their dependencies', {}, ['deployments.apps', 'configmaps', 'secrets', 'namespaces'], true],
    ['CRDs (synced before their custom resources)', {}, ['customresourcedefinitions.apiextensions.k8s.io'], true],
    ['what each cluster makes for itself', {}, ['pods', 'events', 'leases.coordination.k8s.io', 'endpoints'], false],
    ['review APIs', {}, ['selfsubjectrulesreviews.authorization.k8s.io'], false],
    ['webhooks (never synced)', {}, ['validatingwebhookconfigurations.admissionregistration.k8s.io'], false],
    ['RBAC kinds without --sync-rbac', {}, ['roles.rbac.authorization.k8s.io'], false],
    ['RBAC kinds with --sync-rbac', { syncRbac: true }, ['clusterrolebindings.rbac.authorization.k8s.io'], true],
    ['a risky kind the SyncTarget does not allow', {}, ['priorityclasses.scheduling.k8s.io'], false],
    [
      'a risky kind the SyncTarget allows',
      { allowedRiskyKinds: ['PriorityClass.scheduling.k8s.io'] },
      ['priorityclasses.scheduling.k8s.io'],
      true,
    ],
  ])('%s', (_label, options, resources, included) => {
    const synced = names(options);
    for (const r of resources) expect(synced.includes(r)).toBe(included);
  });

  it('grants escalate and bind only with --sync-rbac, and adds custom resources given', () => {
    const verbs = (rules: ReturnType<typeof syncerClusterRules>): string[] => rules.flatMap((r) => r.verbs);
    expect(verbs(syncerClusterRules())).not.toContain('escalate');
    expect(verbs(syncerClusterRules({ syncRbac: true }))).toEqual(expect.arrayContaining(['escalate', 'bind']));
    const rules = syncerClusterRules({ extraResources: [{ group: 'example.com', resource: 'widgets' }] });
    expect(rules.find((r) => r.apiGroups[0] === 'example.com')).toEqual({
      apiGroups: ['example.com'],
      resources: ['widgets'],
      verbs: ['get', 'watch', 'create', 'patch', 'delete'],
    });
  });

  it('mounts the credentials as a directory (so a rotated Secret reaches the syncer) and runs in-cluster', () => {
    const objects = syncerManifest({
      syncTargetName: 'lab',
      syncTargetUid: 'uid-1',
      workspace: 'root:default',
      vwKubeconfig: 'apiVersion: v1\n',
      image: 'example/tmc-syncer:1',
      namespace: 'tmc-syncer',
      healthPort: 8080,
      metricsPort: 9090,
    });
    const deployment = JSON.stringify(objects.find((o) => o.kind === 'Deployment'));
    expect(deployment).not.toContain('subPath');
    expect(deployment).not.toContain('--cluster-kubeconfig');
    expect(deployment).toContain('"--kcp-kubeconfig=/etc/tmc-syncer/kubeconfig"');
  });
});

describe("the syncer's cluster kubeconfig", () => {
  it.each([
    ['the flag, when given', '/k/config', { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, '/k/config'],
    ['the pod ServiceAccount in a pod', undefined, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, undefined],
    ['~/.kube/config elsewhere', undefined, {}, expect.stringMatching(/\/\.kube\/config$/)],
  ])('%s', (_label, flag, env, expected) => {
    expect(clusterKubeconfigPath(flag, env)).toEqual(expected);
  });
});
