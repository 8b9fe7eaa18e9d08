import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { downstreamNamespace } from '../../lib/api/labels';
import type { KubeObject } from '../../lib/kube/object';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

const run = promisify(execFile);

/**
 * Issue 14, mass un-placement: deleting the only Placement that selects a namespace's 40 Deployments must delete none
 * of them downstream — not the first half before the gate trips. Each removal is counted before it is made (the
 * confirm interval), so the gate sees the whole burst: the hold shows in `tmc recovery holds` and in every
 * Deployment's `Placed` condition, and `tmc recovery confirm` releases them all.
 */
describe('un-placement gate: a deleted Placement removes nothing until confirmed', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ns = downstreamNamespace('root:default', 'shop');
  const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
  const names = Array.from({ length: 40 }, (_, i) => `web-${String(i).padStart(2, '0')}`);

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const copiesOn = async (cluster: string): Promise<string[]> => {
    const list = await kubectlGetJson<{ items: KubeObject[] }>(stack.clusterKubeconfigs[cluster], [
      'deployments',
      '-n',
      ns,
      '-l',
      'tmc.kcp.io/managed-by=tmc',
    ]);
    return (list?.items ?? []).map((o) => o.metadata.name ?? '').sort();
  };
  const placedConditions = async (): Promise<
    Array<{ status?: string; reason?: string; message?: string } | undefined>
  > => {
    const list = await kubectlGetJson<{ items: KubeObject[] }>(stack.kcpKubeconfig, ['deployments', '-n', 'shop']);
    return (list?.items ?? []).map((o) =>
      (
        (
          o.status as
            { conditions?: Array<{ type: string; status?: string; reason?: string; message?: string }> } | undefined
        )?.conditions ?? []
      ).find((c) => c.type === 'Placed'),
    );
  };
  const tmc = (args: string[]): Promise<{ stdout: string }> =>
    run('node', [
      'bin/tmc.mjs',
      'recovery',
      ...args,
      '--dynamodb-endpoint',
      stack.endpoints.dynamodb,
      '--table',
      stack.tableName,
    ]);

  it('holds all 40 removals, shows the hold, and removes them all once confirmed', async () => {
    const sim = stack.simulation;
    if (!sim) throw new Error('The e2e stack runs the simulator');
    // Two Placements: `shop` for the namespace, `other` for another team's, so that without `shop` the namespace
    // matches no Placement (the workspace is not left without any, which would mean the default placement).
    const manifest = [
      'apiVersion: scheduling.kcp.io/v1alpha1\nkind: Placement\nmetadata: { name: shop }\nspec: { namespaceSelector: { matchLabels: { team: shop } }, numberOfClusters: 1 }\n',
      'apiVersion: scheduling.kcp.io/v1alpha1\nkind: Placement\nmetadata: { name: other }\nspec: { namespaceSelector: { matchLabels: { team: other } } }\n',
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop, labels: { team: shop } }\n',
      ...names.map(
        (n) =>
          `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: ${n}, namespace: shop }\nspec: { replicas: 1, selector: { matchLabels: { app: ${n} } }, template: { metadata: { labels: { app: ${n} } }, spec: { containers: [{ name: app, image: nginx }] } } }\n`,
      ),
    ].join('---\n');
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], manifest);
    const cluster = await waitFor(
      '40 copies on one cluster',
      async () => {
        for (const c of Object.keys(stack.clusterKubeconfigs))
          if ((await copiesOn(c)).length === names.length) return c;
        return undefined;
      },
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );
    await stack.idle();
    const deletesOn = (): number => sim.clusters[cluster].requests.count({ verb: 'delete' });
    const deletesBefore = deletesOn();

    await kubectlOk(stack.kcpKubeconfig, ['delete', 'placement', 'shop']);
    // Every Deployment ends held (the first ones after the confirm interval), and none was deleted meanwhile.
    await waitFor(
      'every Deployment held',
      async () => {
        const placed = await placedConditions();
        return placed.length === names.length &&
          placed.every((c) => c?.status === 'False' && c.reason === 'DeletionHeld')
          ? true
          : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 2_000 },
    );
    await stack.idle();
    expect(deletesOn()).toBe(deletesBefore);
    expect(await copiesOn(cluster)).toEqual(names);
    const scope = `unplace:${cluster}/root:default/apps/v1/deployments`;
    expect((await placedConditions())[0]?.message).toContain(`tmc recovery confirm ${scope}`);
    const listed = await tmc(['holds']);
    expect(listed.stdout).toContain(`${scope}  HELD`);

    // Confirmed: the next sweep asks placement again about every held Deployment, and all of them go.
    expect((await tmc(['confirm', scope, '--by', 'e2e'])).stdout).toContain('Confirmed the held deletions');
    const report = (await stack.invoke('recovery-sweep', scheduled)) as { failures: string[] };
    expect(report.failures).toEqual([]);
    await waitFor('every copy removed', async () => ((await copiesOn(cluster)).length === 0 ? true : undefined), {
      timeoutMs: 180_000,
      intervalMs: 2_000,
    });
    expect((await tmc(['holds'])).stdout).toContain(`${scope}  confirmed by e2e`);
  }, 600_000);
});
