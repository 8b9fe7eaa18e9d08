import { downstreamNamespace } from '../../lib/api/labels';
import type { KubeObject } from '../../lib/kube/object';
import { DEFAULT_TMC_USER } from '../../lib/webhooks/configurations';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * Issue 14 on the whole local stack, with the simulator's per-request fault rules between tmc and kcp:
 * kcp lists apps/v1 Deployments empty while every other list is fine, and later answers 404 to GETs of Deployments
 * while a user edits them. No Deployment copy may be deleted; the empty list raises a hold for that one type, which
 * resolves once kcp lists them again.
 */
describe('deletion gate: partial reads from kcp never delete copies', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ns = downstreamNamespace('root:default', 'default');
  const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
  const deployments = Array.from({ length: 8 }, (_, i) => `web-${i}`);
  const configMaps = Array.from({ length: 8 }, (_, i) => `cfg-${i}`);

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const sweep = async (): Promise<Record<string, number>> => {
    const report = (await stack.invoke('recovery-sweep', scheduled)) as {
      actions: Record<string, number>;
      failures: string[];
    };
    expect(report.failures).toEqual([]);
    await stack.idle();
    return report.actions;
  };
  const copies = async (cluster: string, resource: string): Promise<string[]> => {
    const list = await kubectlGetJson<{ items: KubeObject[] }>(stack.clusterKubeconfigs[cluster], [
      resource,
      '-n',
      ns,
      '-l',
      'tmc.kcp.io/managed-by=tmc',
    ]);
    return (list?.items ?? []).map((o) => o.metadata.name ?? '').sort();
  };

  it('holds an empty Deployment list per type, resolves it when kcp heals, and keeps copies through GET 404s during edits', async () => {
    const sim = stack.simulation;
    if (!sim) throw new Error('The e2e stack runs the simulator');
    const manifest = [
      ...deployments.map(
        (n) =>
          `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: ${n}, namespace: default }\nspec: { replicas: 1, selector: { matchLabels: { app: ${n} } }, template: { metadata: { labels: { app: ${n} } }, spec: { containers: [{ name: app, image: nginx }] } } }\n`,
      ),
      ...configMaps.map(
        (n) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${n}, namespace: default }\ndata: { k: ${n} }\n`,
      ),
    ].join('---\n');
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], manifest);
    const cluster = await waitFor('every copy on one cluster', async () => {
      for (const c of Object.keys(stack.clusterKubeconfigs)) {
        if (
          (await copies(c, 'deployments')).length === deployments.length &&
          (await copies(c, 'configmaps')).length === configMaps.length
        )
          return c;
      }
      return undefined;
    });
    await stack.idle();
    const deletesOn = (): number => sim.clusters[cluster].requests.count({ verb: 'delete' });
    const deletesBefore = deletesOn();

    // 1. kcp answers Deployment lists empty, everything else as usual: the type is held on that cluster.
    sim.kcp.faults.set({
      rules: [
        {
          match: { verb: 'list', group: 'apps', resource: 'deployments', username: DEFAULT_TMC_USER },
          respond: 'empty',
        },
      ],
    });
    await waitFor('the Deployments held', async () => ((await sweep())['deletion-hold:held'] === 1 ? true : undefined));
    expect(await copies(cluster, 'deployments')).toEqual(deployments);
    const st = await kubectlGetJson(stack.kcpKubeconfig, ['synctarget', cluster]);
    expect(st?.status?.conditions?.find((c: { type: string }) => c.type === 'DeletionsHeld')).toMatchObject({
      status: 'True',
      reason: 'MassDeletionSuspected',
    });
    expect(st?.status?.conditions?.find((c: { type: string }) => c.type === 'DeletionsHeld')?.message).toContain(
      `cluster:${cluster}/root:default/apps/v1/deployments`,
    );

    // 2. kcp heals: the hold resolves by itself, nothing was deleted.
    sim.kcp.faults.set({});
    expect((await sweep())['orphan-delete:succeeded']).toBeUndefined();
    const healed = await kubectlGetJson(stack.kcpKubeconfig, ['synctarget', cluster]);
    expect(healed?.status?.conditions?.find((c: { type: string }) => c.type === 'DeletionsHeld')).toMatchObject({
      status: 'False',
      reason: 'Resolved',
    });

    // 3. kcp answers 404 to tmc's GETs of Deployments while the user scales them: tmc's reads fail, nothing is removed.
    sim.kcp.faults.set({
      rules: [
        { match: { verb: 'get', group: 'apps', resource: 'deployments', username: DEFAULT_TMC_USER }, respond: 404 },
      ],
    });
    const notFound = (): number =>
      sim.kcp.requests.count({
        verb: 'get',
        group: 'apps',
        resource: 'deployments',
        user: DEFAULT_TMC_USER,
        code: 404,
      });
    const notFoundBefore = notFound();
    for (const n of deployments)
      await kubectlOk(stack.kcpKubeconfig, [
        'patch',
        'deployment',
        n,
        '-n',
        'default',
        '--type=merge',
        '-p',
        '{"spec":{"replicas":2}}',
      ]);
    // Not stack.idle(): the messages placement could not read wait on the queue for their retry.
    await waitFor('placement reading every edited Deployment as 404', async () =>
      notFound() - notFoundBefore >= deployments.length ? true : undefined,
    );
    const during = (await stack.invoke('recovery-sweep', scheduled)) as { failures: string[] };
    expect(during.failures).toEqual([]);
    expect(await copies(cluster, 'deployments')).toEqual(deployments);
    expect(deletesOn()).toBe(deletesBefore);
    sim.kcp.faults.set({});

    // After the faults: the edits land (placement re-reads the messages it could not read, within 30 s), and no copy
    // was deleted at any point.
    await waitFor(
      'the scaled Deployments applied downstream',
      async () => {
        const list = await kubectlGetJson<{ items: KubeObject[] }>(stack.clusterKubeconfigs[cluster], [
          'deployments',
          '-n',
          ns,
          '-l',
          'tmc.kcp.io/managed-by=tmc',
        ]);
        const scaled = (list?.items ?? []).filter((o) => (o.spec as { replicas?: number } | undefined)?.replicas === 2);
        if (scaled.length !== deployments.length) {
          await sweep(); // stuck syncs and drift are re-sent by the sweep
          return undefined;
        }
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );
    expect(await copies(cluster, 'configmaps')).toEqual(configMaps);
    expect(deletesOn()).toBe(deletesBefore);
  });
});
