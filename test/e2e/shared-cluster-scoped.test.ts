import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clusterStatusAnnotation, downstreamNamespace, OWNERS_ANNOTATION } from '../../lib/api/labels';
import { writeKubeconfig } from '../../lib/local/kubeconfig-files';
import { kubectl, kubectlGetJson, kubectlOk } from '../support/kubectl';
import * as build from '../support/builders';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * Issue 17: two workspaces install cluster-scoped objects on one shared cluster, with no Placement. An identical CRD
 * is shared (both recorded as owners, removed only with the last), a ClusterRole with different content is a conflict
 * for the later workspace (the first one's copy untouched), and a PriorityClass, webhook configurations and an
 * APIService wait for the SyncTarget's allow-list (refused with a FailedPlacement Event, synced with their service
 * namespace rewritten once allowed).
 */
describe('two workspaces on one cluster: shared, conflicting and disallowed cluster-scoped objects', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  let teamB = '';
  let cluster = '';
  let onCluster = '';
  const wsB = 'root:team-b';

  beforeAll(async () => {
    stack = await startE2eStack({ clusters: 1, extraWorkspaces: [wsB] });
    teamB = join(stack.paths.root, 'team-b.kubeconfig');
    writeKubeconfig(teamB, { name: wsB, server: stack.simulation!.kcp.serverUrl(wsB) });
    [cluster] = Object.keys(stack.clusterKubeconfigs);
    onCluster = stack.clusterKubeconfigs[cluster];
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const crd = build.widgetCrd();
  const role = (verbs: string[]): object => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'widget-editor' },
    rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs }],
  });
  const work = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'shop' },
        data: { mode: 'prod' },
      },
    ],
  };
  // Can preempt other tenants' pods: placed only where the SyncTarget's allow-list names it.
  const priority = {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'urgent' },
    value: 1000000,
    globalDefault: false,
  };
  // Intercepts every tenant's requests: placed only where the SyncTarget's allow-list names it. kube-apiserver calls
  // no admission webhook for a webhook configuration, so the recovery sweep's listing is what brings it to placement.
  const guard = (name: string): object => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      {
        name: `${name}.example.com`,
        clientConfig: { service: { namespace: 'shop', name: 'guard', path: '/validate' } },
        rules: [{ apiGroups: ['example.com'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['gadgets'] }],
        failurePolicy: 'Ignore',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
      },
    ],
  });
  const WEBHOOK_KIND = 'ValidatingWebhookConfiguration.admissionregistration.k8s.io';
  // Serves an API group for the whole cluster from a Service of the workspace: held by the allow-list too.
  const apiService = {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: 'v1beta1.metrics.example.com' },
    spec: {
      group: 'metrics.example.com',
      version: 'v1beta1',
      service: { namespace: 'shop', name: 'metrics', port: 443 },
      groupPriorityMinimum: 100,
      versionPriority: 10,
      insecureSkipTLSVerify: true,
    },
  };
  const API_SERVICE_KIND = 'APIService.apiregistration.k8s.io';
  const sweep = async (): Promise<void> => {
    const report = (await stack.invoke('recovery-sweep', {
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      detail: {},
    })) as { failures: string[] };
    expect(report.failures).toEqual([]);
  };
  /** The Events `kubectl describe` shows for a cluster-scoped object of `kubeconfig`'s workspace. */
  const eventsOf = async (kubeconfig: string, name: string): Promise<Array<Record<string, any>>> =>
    ((await kubectlGetJson(kubeconfig, ['events', '-A', '--field-selector', `involvedObject.name=${name}`]))?.items ??
      []) as Array<Record<string, any>>;
  const apply = (kubeconfig: string, object: object): Promise<string> =>
    kubectlOk(kubeconfig, ['apply', '-f', '-'], JSON.stringify(object));
  const downstream = (args: string[]): Promise<Record<string, any> | undefined> => kubectlGetJson(onCluster, args);
  const owners = async (args: string[]): Promise<string[]> =>
    (
      JSON.parse((await downstream(args))?.metadata.annotations?.[OWNERS_ANNOTATION] ?? '[]') as Array<{
        workspace: string;
      }>
    )
      .map((o) => o.workspace)
      .sort();

  it('shares the identical CRD, refuses the different ClusterRole, holds the PriorityClass until the SyncTarget allows it', async () => {
    const wsA = stack.workspace;
    for (const kubeconfig of [stack.kcpKubeconfig, teamB]) {
      await apply(kubeconfig, work);
      await apply(kubeconfig, crd);
    }
    await waitFor(
      'the work of both workspaces on the cluster',
      async () =>
        (await downstream(['configmap', 'settings', '-n', downstreamNamespace(wsA, 'shop')])) !== undefined &&
        (await downstream(['configmap', 'settings', '-n', downstreamNamespace(wsB, 'shop')])) !== undefined,
      { timeoutMs: 90_000 },
    );
    await waitFor(
      'the CRD owned by both workspaces',
      async () => JSON.stringify(await owners(['crd', 'widgets.example.com'])) === JSON.stringify([wsA, wsB].sort()),
      { timeoutMs: 90_000 },
    );

    await apply(stack.kcpKubeconfig, role(['get']));
    await waitFor(
      "root:default's ClusterRole on the cluster",
      async () => (await downstream(['clusterrole', 'widget-editor'])) !== undefined,
      { timeoutMs: 90_000 },
    );
    await apply(teamB, role(['get', 'delete']));
    const conflict = await waitFor(
      "team-b's ClusterRole reported as a conflict",
      async () => {
        const detail = (await kubectlGetJson(teamB, ['clusterrole', 'widget-editor']))?.metadata.annotations?.[
          clusterStatusAnnotation(wsB, cluster)
        ];
        return typeof detail === 'string' && detail.includes('SyncConflict') ? detail : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(conflict).toContain(`workspace ${wsA}`);
    expect((await downstream(['clusterrole', 'widget-editor']))?.rules?.[0].verbs).toEqual(['get']);
    expect(await owners(['clusterrole', 'widget-editor'])).toEqual([wsA]);

    // A webhook configuration in each workspace and an APIService: all refused by the allow-list, with a Warning
    // Event saying so.
    await apply(stack.kcpKubeconfig, guard('team-a-guard'));
    await apply(teamB, guard('team-b-guard'));
    await apply(stack.kcpKubeconfig, apiService);
    await sweep();
    for (const [kubeconfig, name, kind, entry] of [
      [stack.kcpKubeconfig, 'team-a-guard', 'ValidatingWebhookConfiguration', WEBHOOK_KIND],
      [teamB, 'team-b-guard', 'ValidatingWebhookConfiguration', WEBHOOK_KIND],
      [stack.kcpKubeconfig, apiService.metadata.name, 'APIService', API_SERVICE_KIND],
    ]) {
      const refused = await waitFor(
        `${name} refused by the allow-list, with an Event`,
        async () => (await eventsOf(kubeconfig, name)).find((e) => e.reason === 'FailedPlacement'),
        { timeoutMs: 90_000 },
      );
      expect(refused).toMatchObject({ type: 'Warning', involvedObject: { kind } });
      expect(refused.message).toContain(`does not allow ${entry}`);
    }
    expect(await downstream(['apiservice', apiService.metadata.name])).toBeUndefined();
    const described = await kubectlOk(teamB, ['describe', 'validatingwebhookconfiguration', 'team-b-guard']);
    expect(described).toMatch(/Warning\s+FailedPlacement/);
    expect(await downstream(['validatingwebhookconfiguration', 'team-a-guard'])).toBeUndefined();

    await apply(stack.kcpKubeconfig, priority);
    const explain = async (): Promise<string> =>
      (
        await promisify(execFile)(process.execPath, [
          'bin/tmc.mjs',
          'placement',
          'explain',
          'priorityclass/urgent',
          '--state-dir',
          stack.paths.root,
        ])
      ).stdout;
    const denied = await waitFor(
      'the PriorityClass held by the allow-list',
      async () => {
        const text = await explain();
        return text.includes('does not allow PriorityClass.scheduling.k8s.io') ? text : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(denied).toContain('allowedRiskyKinds');
    expect(await downstream(['priorityclass', 'urgent'])).toBeUndefined();
    await kubectlOk(stack.kcpKubeconfig, [
      'patch',
      'synctarget',
      cluster,
      '--type',
      'merge',
      '-p',
      JSON.stringify({
        spec: { allowedRiskyKinds: ['PriorityClass.scheduling.k8s.io', WEBHOOK_KIND, API_SERVICE_KIND] },
      }),
    ]);
    await waitFor(
      'the PriorityClass on the cluster once allowed',
      async () => (await downstream(['priorityclass', 'urgent'])) !== undefined,
      { timeoutMs: 90_000 },
    );
    // root:default's SyncTarget now allows webhook configurations: its copy arrives, calling its own downstream
    // namespace; team-b's SyncTarget still does not, so team-b's stays out.
    const hook = await waitFor(
      "root:default's webhook configuration on the cluster once allowed",
      async () => downstream(['validatingwebhookconfiguration', 'team-a-guard']),
      { timeoutMs: 90_000 },
    );
    expect(hook.webhooks[0].clientConfig.service).toMatchObject({
      namespace: downstreamNamespace(wsA, 'shop'),
      name: 'guard',
      path: '/validate',
    });
    // The APIService too, calling the workspace's Service in its downstream namespace.
    const served = await waitFor(
      "root:default's APIService on the cluster once allowed",
      async () => downstream(['apiservice', apiService.metadata.name]),
      { timeoutMs: 90_000 },
    );
    expect(served.spec.service).toEqual({ namespace: downstreamNamespace(wsA, 'shop'), name: 'metrics', port: 443 });
    await sweep();
    expect(await downstream(['validatingwebhookconfiguration', 'team-b-guard'])).toBeUndefined();

    // The first owner's delete leaves the shared CRD to the other; the last owner's removes it.
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'crd', 'widgets.example.com', '--wait=false']);
    await waitFor(
      'the CRD owned by team-b alone',
      async () => JSON.stringify(await owners(['crd', 'widgets.example.com'])) === JSON.stringify([wsB]),
      { timeoutMs: 90_000 },
    );
    await waitFor(
      "root:default's CRD gone from kcp",
      async () => (await kubectl(stack.kcpKubeconfig, ['get', 'crd', 'widgets.example.com'])).code !== 0,
      { timeoutMs: 90_000 },
    );
    expect(await downstream(['crd', 'widgets.example.com'])).toBeDefined();
    await kubectlOk(teamB, ['delete', 'crd', 'widgets.example.com', '--wait=false']);
    await waitFor(
      'the CRD gone from the cluster',
      async () => (await downstream(['crd', 'widgets.example.com'])) === undefined,
      { timeoutMs: 90_000 },
    );
  }, 420_000);
});
