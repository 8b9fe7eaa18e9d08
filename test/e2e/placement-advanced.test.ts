import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDecisionStore } from '../../lib/adapters/dynamodb/decision-store';
import {
  NAMESPACE_LOCATOR_ANNOTATION,
  STATE_LABEL_PREFIX,
  downstreamNamespace,
  stateLabel,
} from '../../lib/api/labels';
import type { ObjectRef } from '../../lib/api/object-ref';
import { writeKubeconfig } from '../../lib/local/kubeconfig-files';
import { makeDynamoDocumentClient } from '../../lib/runtime/aws';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * What a kcp/Karmada user relies on beyond the basics, on the whole local stack through the real kubectl: two
 * workspaces sharing one physical cluster, a namespace and its objects staying together when SyncTargets change,
 * replicas divided by capacity with a per-cluster replicas override, taints and tolerations (NoSchedule, NoExecute
 * with tolerationSeconds), topology spread and the Pack strategy, CronJob and Ingress following their namespace.
 * Four clusters: east, west, edge and cluster-4 (a second us-east-1 cluster, so region spread has something to do).
 */
describe('Placement end to end: workspaces, namespaces, capacity, taints, spread', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  let teamB = '';
  let decisions: DynamoDecisionStore;
  const ws = 'root:default';
  const wsB = 'root:team-b';

  beforeAll(async () => {
    stack = await startE2eStack({ clusters: 4, extraWorkspaces: [wsB] });
    teamB = join(stack.paths.root, 'team-b.kubeconfig');
    writeKubeconfig(teamB, { name: wsB, server: stack.simulation!.kcp.serverUrl(wsB) });
    decisions = new DynamoDecisionStore(
      makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: stack.endpoints.dynamodb }),
      stack.tableName,
    );
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const kcp = (args: string[], input?: string): Promise<string> => kubectlOk(stack.kcpKubeconfig, args, input);
  const onCluster = (cluster: string, args: string[]): Promise<Record<string, any> | undefined> =>
    kubectlGetJson(stack.clusterKubeconfigs[cluster], args);
  const deployment = (name: string, namespace: string, replicas: number, cpu = '100m'): string =>
    readFileSync('examples/basic-setup/nginx.yaml', 'utf8')
      .replace(/name: nginx/, `name: ${name}`)
      .replace('namespace: default', `namespace: ${namespace}`)
      .replace('replicas: 2', `replicas: ${replicas}`)
      .replace('cpu: 100m', `cpu: ${cpu}`);
  const namespace = (name: string, team: string): string =>
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${name}, labels: { team: ${team} } }\n`;

  /** Replicas of `name` on every cluster that runs it (workspace root:default unless told). */
  async function running(name: string, ns: string, workspace = ws): Promise<Record<string, number>> {
    const found: Record<string, number> = {};
    for (const cluster of Object.keys(stack.clusterKubeconfigs)) {
      const d = await onCluster(cluster, ['deployment', name, '-n', downstreamNamespace(workspace, ns)]);
      if (d) found[cluster] = d.spec.replicas;
    }
    // Sorted by cluster name, so results compare as JSON.
    return Object.fromEntries(Object.entries(found).sort(([x], [y]) => (x < y ? -1 : 1)));
  }
  const waitRunning = (
    name: string,
    ns: string,
    want: Record<string, number>,
    workspace = ws,
  ): Promise<Record<string, number>> => {
    let seen: Record<string, number> = {};
    return waitFor(`${name} in ${ns} running as ${JSON.stringify(want)}`, async () => {
      seen = await running(name, ns, workspace);
      return JSON.stringify(seen) === JSON.stringify(want) ? seen : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; runs as ${JSON.stringify(seen)}`);
    });
  };
  const ref = (kind: string, name: string, ns?: string): ObjectRef =>
    kind === 'Namespace'
      ? { workspace: ws, group: '', version: 'v1', resource: 'namespaces', kind, name }
      : { workspace: ws, group: 'apps', version: 'v1', resource: 'deployments', kind, namespace: ns, name };

  let home = '';

  it('two workspaces on one physical cluster never collide', async () => {
    await kcp(['apply', '-f', '-'], deployment('web', 'default', 1));
    await kubectlOk(teamB, ['apply', '-f', '-'], deployment('web', 'default', 1));
    // The default placement hashes the namespace name, so both land on the same cluster: the case that must not collide.
    const a = await waitFor('web of root:default on a cluster', async () =>
      Object.keys(await running('web', 'default')).at(0),
    );
    await waitRunning('web', 'default', { [a]: 1 }, wsB);
    home = a;
    const nsA = await onCluster(a, ['namespace', downstreamNamespace(ws, 'default')]);
    const nsB = await onCluster(a, ['namespace', downstreamNamespace(wsB, 'default')]);
    expect(downstreamNamespace(ws, 'default')).not.toBe(downstreamNamespace(wsB, 'default'));
    expect(JSON.parse(nsA!.metadata.annotations[NAMESPACE_LOCATOR_ANNOTATION])).toMatchObject({
      workspace: ws,
      namespace: 'default',
    });
    expect(JSON.parse(nsB!.metadata.annotations[NAMESPACE_LOCATOR_ANNOTATION])).toMatchObject({
      workspace: wsB,
      namespace: 'default',
    });

    await kubectlOk(teamB, ['delete', 'deployment', 'web', '-n', 'default', '--wait=false']);
    await waitRunning('web', 'default', {}, wsB);
    expect(await running('web', 'default')).toEqual({ [a]: 1 });
  });

  it('a namespace and its objects stay together when SyncTargets change', async () => {
    // The lead's restart bug: every SyncTarget updated, what runs on each re-placed; the kcp Namespace went elsewhere.
    for (const cluster of Object.keys(stack.clusterKubeconfigs))
      await kcp(['label', 'synctarget', cluster, 'tier=gold', '--overwrite']);
    await stack.idle();
    const nsDecision = await decisions.get(ref('Namespace', 'default'));
    expect(nsDecision?.clusters.map((c) => c.name)).toEqual([home]);
    expect((await decisions.get(ref('Deployment', 'web', 'default')))?.clusters.map((c) => c.name)).toEqual([home]);
    const labels = (await kubectlGetJson(stack.kcpKubeconfig, ['namespace', 'default']))!.metadata.labels as Record<
      string,
      string
    >;
    expect(Object.keys(labels).filter((k) => k.startsWith(STATE_LABEL_PREFIX))).toEqual([stateLabel(ws, home)]);
    for (const cluster of Object.keys(stack.clusterKubeconfigs).filter((c) => c !== home)) {
      expect(await onCluster(cluster, ['namespace', downstreamNamespace(ws, 'default')])).toBeUndefined();
    }
    expect(await running('web', 'default')).toEqual({ [home]: 1 });
  });

  it('divides replicas by capacity, honours a replicas override, and skips a cluster without room', async () => {
    await kcp(['apply', '-f', '-'], namespace('batch', 'batch'));
    await kcp(['apply', '-f', 'examples/multi-cluster-deployment/placement-by-capacity.yaml']);
    await kcp(['apply', '-f', '-'], deployment('work', 'batch', 6, '1'));
    await kcp(['apply', '-f', '-'], deployment('big', 'batch', 1, '6'));
    // west 8 cores : edge 4 cores → 4:2 of 6; the override gives edge 1. big (6 cores) has no room on edge.
    await waitRunning('work', 'batch', { edge: 1, west: 4 });
    await waitRunning('big', 'batch', { west: 1 });
    const big = await decisions.get(ref('Deployment', 'big', 'batch'));
    expect(big?.explanation.find((e) => e.cluster === 'edge')).toMatchObject({
      chosen: false,
      rejectedBy: 'capacity',
      detail: 'no room for 1 replica(s): insufficient cpu',
    });
  });

  it('a NoSchedule taint keeps new work off unless tolerated; NoExecute past tolerationSeconds evicts', async () => {
    await kcp([
      'patch',
      'synctarget',
      'west',
      '--type=merge',
      '-p',
      '{"spec":{"taints":[{"key":"maintenance","effect":"NoSchedule"}]}}',
    ]);
    await kcp(['apply', '-f', 'examples/multi-cluster-deployment/placement-tolerations.yaml']);
    await kcp(
      ['apply', '-f', '-'],
      'apiVersion: scheduling.kcp.io/v1alpha1\nkind: Placement\nmetadata: { name: plain }\nspec:\n  namespaceSelector: { matchLabels: { team: plain } }\n  clusterConstraints: { regions: [us-east-1, us-west-2] }\n',
    );
    await kcp(['apply', '-f', '-'], namespace('ops', 'ops') + '---\n' + namespace('plain', 'plain'));
    await kcp(['apply', '-f', '-'], deployment('app', 'ops', 1));
    await kcp(['apply', '-f', '-'], deployment('app', 'plain', 1));
    await waitRunning('app', 'ops', { 'cluster-4': 1, east: 1, west: 1 });
    await waitRunning('app', 'plain', { 'cluster-4': 1, east: 1 });

    // NoExecute added an hour ago: ops tolerates it for 60 s only, so its copy leaves west (a failover: recovery
    // removes the old copy once the others are ready).
    const anHourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await kcp([
      'patch',
      'synctarget',
      'west',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { taints: [{ key: 'maintenance', effect: 'NoExecute', timeAdded: anHourAgo }] } }),
    ]);
    await waitFor('ops/app decided off west', async () => {
      const d = await decisions.get(ref('Deployment', 'app', 'ops'));
      return d && !d.clusters.some((c) => c.name === 'west') ? d : undefined;
    });
    const evicted = await decisions.get(ref('Deployment', 'app', 'ops'));
    expect(evicted?.explanation.find((e) => e.cluster === 'west')).toMatchObject({ rejectedBy: 'taints' });
    await waitFor('ops/app copy removed from west', async () => {
      await stack.runSchedule('recovery-sweep');
      const seen = await running('app', 'ops');
      return seen.west === undefined ? seen : undefined;
    });
    expect(await running('app', 'ops')).toEqual({ 'cluster-4': 1, east: 1 });
    await kcp(['patch', 'synctarget', 'west', '--type=merge', '-p', '{"spec":{"taints":[]}}']);
  });

  it('spreads over regions within maxSkew, packs onto the fullest cluster, and CronJob and Ingress follow their namespace', async () => {
    // edge reports little room left (status.allocatable); a label change re-mirrors the SyncTarget.
    await kcp([
      'patch',
      'synctarget',
      'edge',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"allocatable":{"cpu":"1","memory":"2Gi","pods":"10"}}}',
    ]);
    await kcp(['label', 'synctarget', 'edge', 'tier=silver', '--overwrite']);
    await kcp(['apply', '-f', 'examples/multi-cluster-deployment/placement-spread.yaml']);
    await kcp(['apply', '-f', '-'], namespace('spread', 'spread') + '---\n' + namespace('pack', 'pack'));
    await kcp(['apply', '-f', '-'], deployment('app', 'spread', 1));
    await kcp(['apply', '-f', '-'], deployment('app', 'pack', 1));

    const spread = await waitFor('spread/app on 3 clusters', async () => {
      const seen = Object.keys(await running('app', 'spread'));
      return seen.length === 3 ? seen : undefined;
    }).catch(async (err: Error) => {
      const [ns, app] = await Promise.all([
        decisions.get(ref('Namespace', 'spread')),
        decisions.get(ref('Deployment', 'app', 'spread')),
      ]);
      throw new Error(`${err.message}; namespace: ${ns?.message}; app: ${app?.message}`);
    });
    // Without the constraint the two roomy us-east-1 clusters would both be chosen; maxSkew 1 allows one.
    expect(spread.filter((c) => c === 'east' || c === 'cluster-4')).toHaveLength(1);
    expect(spread).toEqual(expect.arrayContaining(['edge', 'west']));
    await waitRunning('app', 'pack', { edge: 1 });

    const tick =
      'apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: tick, namespace: spread }\nspec:\n  schedule: "*/5 * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{ name: tick, image: busybox:1.36, command: [date] }]\n';
    const ingress =
      'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: app, namespace: spread }\nspec:\n  rules:\n    - host: app.example.com\n      http:\n        paths: [{ path: /, pathType: Prefix, backend: { service: { name: app, port: { number: 80 } } } }]\n';
    await kcp(['apply', '-f', '-'], `${tick}---\n${ingress}`);
    const ns = downstreamNamespace(ws, 'spread');
    const copies = async (cluster: string): Promise<unknown[]> =>
      (
        await Promise.all([
          onCluster(cluster, ['cronjob', 'tick', '-n', ns]),
          onCluster(cluster, ['ingress', 'app', '-n', ns]),
        ])
      ).filter((o) => o !== undefined);
    for (const cluster of spread)
      await waitFor(`CronJob and Ingress on ${cluster}`, async () => (await copies(cluster)).length === 2);
    await stack.idle();
    for (const cluster of Object.keys(stack.clusterKubeconfigs).filter((c) => !spread.includes(c)))
      expect(await copies(cluster)).toEqual([]);
    const cron = await onCluster(spread[0], ['cronjob', 'tick', '-n', ns]);
    expect(cron?.spec.schedule).toBe('*/5 * * * *');
  });
});
